# A multicast sender in the style of article B: sends "Hello world : N" to a group,
# one datagram per interval. As the course requires, the interface is 127.0.0.1 and
# the TTL 0, so nothing leaves this machine. Usage: python3
# article_b_multicast_send.py [GROUP PORT COUNT INTERVAL]
#        (default 239.255.0.1 4000 10 1)
import socket
import sys
import time

group = sys.argv[1] if len(sys.argv) > 1 else "239.255.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
count = int(sys.argv[3]) if len(sys.argv) > 3 else 10
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
local_address = "127.0.0.1"

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(local_address))
sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
# sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)

n = 0
while n < count:
    n += 1
    message = "Hello world : {}".format(n)
    sock.sendto(message.encode("utf-8"), (group, port))
    print("sent: " + message, flush=True)
    if n < count:
        time.sleep(interval)
sock.close()
