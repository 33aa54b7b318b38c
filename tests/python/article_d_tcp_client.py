# A TCP client in the style of article D: connect, send "Hello TCP", print the reply.
# Usage: python3 article_d_tcp_client.py HOST PORT
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
# AF_INET6 for an IPv6 host such as ::1, AF_INET for an IPv4 one.
family = socket.AF_INET6 if ":" in host else socket.AF_INET

with socket.socket(family, socket.SOCK_STREAM) as s:
    s.connect((host, port))
    s.sendall(b"Hello TCP")
    data = s.recv(1024)
    print(data.decode("utf-8"))
