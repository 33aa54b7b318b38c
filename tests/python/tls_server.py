# A TLS echo server with Python's standard ssl module, for the course's tls-client:
# serves one connection and echoes every byte until the client's close_notify.
# Prints "listening on IP:PORT" on stderr first, like the course's servers.
# Usage: python3 tls_server.py CERT_FILE KEY_FILE
import socket
import ssl
import sys

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_3
context.load_cert_chain(sys.argv[1], sys.argv[2])

with socket.create_server(("127.0.0.1", 0)) as listener:
    host, port = listener.getsockname()
    print(f"listening on {host}:{port}", file=sys.stderr, flush=True)
    listener.settimeout(10)
    tcp, _ = listener.accept()
    tcp.settimeout(10)
    with context.wrap_socket(tcp, server_side=True) as tls:
        while True:
            data = tls.recv(4096)
            if not data:  # the client's close_notify
                break
            tls.sendall(data)
        tls.unwrap()
    print("closed cleanly", file=sys.stderr)
