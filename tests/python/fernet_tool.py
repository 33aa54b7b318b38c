# Seals or opens with Python's cryptography, to check that Rust and Python agree on
# Fernet. Usage: python3 fernet_tool.py seal KEYFILE < plaintext > token
#        python3 fernet_tool.py open KEYFILE < token > plaintext
import sys
from cryptography.fernet import Fernet

action, key_file = sys.argv[1], sys.argv[2]
with open(key_file, "rb") as f:
    fernet = Fernet(f.read().strip())
data = sys.stdin.buffer.read()
if action == "seal":
    sys.stdout.buffer.write(fernet.encrypt(data))
else:
    sys.stdout.buffer.write(fernet.decrypt(data.strip()))
