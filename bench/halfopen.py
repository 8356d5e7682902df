"""Opens N connections that each send half a request (no blank line after the headers),
then reports every half second how many the server still holds open and how many file
descriptors the server process has.

    python3 bench/halfopen.py HOST PORT N SERVER_PID
"""
import os
import socket
import sys
import time

host, port, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def fds():
    return len(os.listdir(f"/proc/{pid}/fd"))


print(f"server fds before: {fds()}")
socks = []
t0 = time.time()
for _ in range(n):
    s = socket.create_connection((host, port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x")
    socks.append(s)
print(f"opened {n} half-open connections in {time.time() - t0:.1f}s; server fds: {fds()}")
for s in socks:
    s.setblocking(False)
still_open = set(range(n))
while still_open and time.time() - t0 < 60:
    for i in list(still_open):
        try:
            if socks[i].recv(4096) == b"":
                still_open.discard(i)
        except BlockingIOError:
            pass
        except OSError:
            still_open.discard(i)
    time.sleep(0.5)
    print(f"t={time.time() - t0:5.1f}s still open: {len(still_open):5d} server fds: {fds()}", flush=True)
