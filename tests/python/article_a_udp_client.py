# A UDP client in the style of article A: each line typed is sent to the server as
# UTF-8, then the client waits for the reply and prints it. "end" quits. Usage:
# python3 article_a_udp_client.py [HOST PORT] (default 127.0.0.1 8890)
import socket
import sys

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8890
# AF_INET6 for an IPv6 host such as ::1, AF_INET for an IPv4 one.
family = socket.AF_INET6 if ":" in host else socket.AF_INET

sock = socket.socket(family, socket.SOCK_DGRAM)
try:
    for line in sys.stdin:
        message = line.rstrip("\n")
        if message == "end":
            break
        sock.sendto(message.encode("utf-8"), (host, port))
        data, address = sock.recvfrom(1024)
        print(data.decode("utf-8"))
finally:
    sock.close()
