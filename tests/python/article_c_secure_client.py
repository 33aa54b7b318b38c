# A client in the style of article C's exercise 3: every line typed is encrypted with
# the shared key (Fernet) before it is sent, and the reply is decrypted before it is
# printed. "q" quits. Usage: python3 article_c_secure_client.py KEYFILE [HOST PORT]
import socket
import sys
from cryptography.fernet import Fernet

with open(sys.argv[1], "rb") as f:
    fernet = Fernet(f.read().strip())
host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
port = int(sys.argv[3]) if len(sys.argv) > 3 else 8890
# AF_INET6 for an IPv6 host such as ::1, AF_INET for an IPv4 one.
family = socket.AF_INET6 if ":" in host else socket.AF_INET

sock = socket.socket(family, socket.SOCK_DGRAM)
sock.settimeout(5)
for line in sys.stdin:
    message = line.rstrip("\n")
    if message == "q":
        break
    sock.sendto(fernet.encrypt(message.encode("utf-8")), (host, port))
    token, address = sock.recvfrom(4096)
    print(fernet.decrypt(token).decode("utf-8"))
sock.close()
