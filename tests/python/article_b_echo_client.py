# A TCP echo client in the style of article B: sends each line typed, prints the echo,
# stops at an empty line.
# Usage: python3 article_b_echo_client.py HOST PORT
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((host, port))
    for line in sys.stdin:
        message = line.rstrip("\n")
        if message == "":
            break
        s.sendall(message.encode("utf-8"))
        data = s.recv(4096)
        print(data.decode("utf-8"))
