# A TCP client in the style of article D: connect, send "Hello TCP", print the reply.
# Usage: python3 article_d_tcp_client.py HOST PORT
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((host, port))
    s.sendall(b"Hello TCP")
    data = s.recv(1024)
    print(data.decode("utf-8"))
