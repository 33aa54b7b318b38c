# A TLS echo server with Python's standard ssl module, for the course's tls-client:
# serves one connection and echoes every byte until the client's close_notify.
# Prints "listening on IP:PORT" on stderr first, like the course's servers.
# Usage: python3 tls_server.py CERT_FILE KEY_FILE [HOST] (default 127.0.0.1; ::1 for IPv6)
import socket
import ssl
import sys

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_3
context.load_cert_chain(sys.argv[1], sys.argv[2])
host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
# AF_INET6 for an IPv6 host such as ::1, AF_INET for an IPv4 one.
family = socket.AF_INET6 if ":" in host else socket.AF_INET

with socket.create_server((host, 0), family=family) as listener:
    bound = listener.getsockname()
    listening = ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % bound[:2]
    print("listening on " + listening, file=sys.stderr, flush=True)
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
