# A chat client in the style of article C: a thread prints whatever arrives, the main
# thread sends each line typed as plain text. "q" quits. Usage: python3
# article_c_chat_client.py [HOST PORT] (default 127.0.0.1 12345)
import socket
import sys
import threading

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 12345
# AF_INET6 for an IPv6 host such as ::1, AF_INET for an IPv4 one.
family = socket.AF_INET6 if ":" in host else socket.AF_INET

sock = socket.socket(family, socket.SOCK_DGRAM)


def receive():
    while True:
        try:
            data, address = sock.recvfrom(4096)
        except OSError:
            break
        print(data.decode("utf-8", errors="replace"), flush=True)


receiver = None
for line in sys.stdin:
    message = line.rstrip("\n")
    if message == "q":
        break
    sock.sendto(message.encode("utf-8"), (host, port))
    if receiver is None:
        # The socket has its port once it has sent; now it can listen too.
        receiver = threading.Thread(target=receive, daemon=True)
        receiver.start()
sock.close()
