# Article B's select server, adapted: one select() over the listening socket and every
# connection, as the article writes it; a readable listener means a new client, a
# readable connection with zero bytes means that client closed. Each chunk is printed
# and echoed. Three changes from the article: listen(128) instead of listen(10) (the
# benchmark connects in bursts), sendall() instead of send() (which may send only part
# of the bytes), and SO_REUSEADDR (so it can be started again on the same port at once).
# select() only handles descriptors below FD_SETSIZE (1024): past about 1,020 clients it
# raises ValueError and the server dies. The chapter 4 benchmark shows it. Usage:
# python3 article_b_select_server.py HOST PORT (port 0: the OS picks one)
import select
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
# AF_INET6 for an IPv6 host such as ::1, AF_INET for an IPv4 one.
family = socket.AF_INET6 if ":" in host else socket.AF_INET

server = socket.socket(family, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((host, port))
server.listen(128)
bound = server.getsockname()
listening = ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % bound[:2]
print("listening on " + listening, file=sys.stderr, flush=True)

inputs = [server]
while True:
    readable, _, _ = select.select(inputs, [], [])
    for s in readable:
        if s is server:
            conn, addr = server.accept()
            inputs.append(conn)
        else:
            data = s.recv(4096)
            if data:
                print(data.decode("utf-8", "replace"))
                s.sendall(data)
            else:
                inputs.remove(s)
                s.close()
