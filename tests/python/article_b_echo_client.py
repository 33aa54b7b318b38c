# A TCP echo client in the style of article B: sends each line typed, prints the echo,
# stops at an empty line.
# Usage: python3 article_b_echo_client.py HOST PORT
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
# AF_INET6 for an IPv6 host such as ::1, AF_INET for an IPv4 one.
family = socket.AF_INET6 if ":" in host else socket.AF_INET

with socket.socket(family, socket.SOCK_STREAM) as s:
    s.connect((host, port))
    for line in sys.stdin:
        message = line.rstrip("\n")
        if message == "":
            break
        s.sendall(message.encode("utf-8"))
        data = s.recv(4096)
        print(data.decode("utf-8"))
