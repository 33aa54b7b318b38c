# A TLS client with Python's standard ssl module, against the course's tls-server:
# it trusts only the CA in CA_FILE, checks the server's name, sends each line of
# stdin and prints the echo. Usage: python3 tls_client.py HOST PORT CA_FILE NAME
import socket
import ssl
import sys

host, port, ca_file, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

context = ssl.create_default_context(cafile=ca_file)  # only this CA, names checked
context.minimum_version = ssl.TLSVersion.TLSv1_3
with socket.create_connection((host, port), timeout=5) as tcp:
    with context.wrap_socket(tcp, server_hostname=name) as tls:
        print("version", tls.version(), file=sys.stderr)
        for line in sys.stdin:
            data = line.encode("utf-8")
            tls.sendall(data)
            echo = b""
            while len(echo) < len(data):
                chunk = tls.recv(4096)
                if not chunk:
                    sys.exit("the server closed early")
                echo += chunk
            print(echo.decode("utf-8").rstrip("\n"))
        tls.unwrap()  # close_notify, and wait for the server's
