# A multicast receiver in the style of article B: SO_REUSEADDR before bind (so several
# programs can listen on the port), bind the port, join the group on the interface
# 127.0.0.1, print each datagram.
# Usage: python3 article_b_multicast_recv.py [GROUP PORT COUNT]
#        (default 239.255.0.1 4000, forever)
import socket
import sys

group = sys.argv[1] if len(sys.argv) > 1 else "239.255.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
count = int(sys.argv[3]) if len(sys.argv) > 3 else None
local_address = "127.0.0.1"

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("", port))
mreq = socket.inet_aton(group) + socket.inet_aton(local_address)
sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
# The course's programs announce their address this way; the tests read it.
print("listening on %s:%d" % sock.getsockname(), file=sys.stderr, flush=True)
# Not in the article: a test must never wait forever.
sock.settimeout(10)

received = 0
while count is None or received < count:
    data, address = sock.recvfrom(4096)
    received += 1
    text = data.decode("utf-8", errors="replace")
    print("from %s:%d: %s" % (address[0], address[1], text), flush=True)
sock.close()
