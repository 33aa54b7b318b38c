# A UDP server in the style of article A: prints each message, waits one second (the
# article believes the client needs the time), then answers "Success to receive
# message". Usage: python3 article_a_udp_server.py [HOST PORT] (default 127.0.0.1
# 8890; port 0: any)
import socket
import sys
import time

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8890
# AF_INET6 for an IPv6 host such as ::1, AF_INET for an IPv4 one.
family = socket.AF_INET6 if ":" in host else socket.AF_INET

sock = socket.socket(family, socket.SOCK_DGRAM)
sock.bind((host, port))
# The course's programs announce their address this way; the tests read it.
bound = sock.getsockname()
listening = ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % bound[:2]
print("listening on " + listening, file=sys.stderr, flush=True)
while True:
    data, address = sock.recvfrom(1024)
    print(data.decode("utf-8", errors="replace"), flush=True)
    time.sleep(1)
    sock.sendto("Success to receive message".encode("utf-8"), address)
