# Usage: python3 bench/halfopen.py PORT SERVER_PID N
# Opens N connections that each send half a request line and headers, then watches the
# server's open file descriptors and when the server closes each connection.
import os, socket, sys, time, select, urllib.request
port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
fds = lambda: len(os.listdir(f"/proc/{pid}/fd"))
print(f"server fds before: {fds()}")
socks = []
opened = {}
t0 = time.monotonic()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x")
    socks.append(s)
    opened[s.fileno()] = time.monotonic()
print(f"{n} half-open connections in {time.monotonic()-t0:.2f} s; server fds: {fds()}")
t = time.monotonic()
with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=30) as r:
    print(f"normal GET /health/live meanwhile: {r.status} in {(time.monotonic()-t)*1000:.1f} ms")
open_ = {s.fileno(): s for s in socks}
closed_at = []
lived = []
poll = select.poll()
for fd in open_: poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
next_report = 1.0
while open_ and time.monotonic() - t0 < 40:
    for fd, _ in poll.poll(200):
        s = open_.pop(fd); poll.unregister(fd)
        try: data = s.recv(4096)
        except OSError: data = b""
        closed_at.append(time.monotonic() - t0)
        lived.append(time.monotonic() - opened[fd])
    el = time.monotonic() - t0
    if el >= next_report:
        print(f"t={el:5.1f} s  closed by server: {len(closed_at):5d}  still open: {len(open_):5d}  server fds: {fds()}")
        next_report += 2.0 if el < 8 else 1.0
        if el > 14 and not open_: break
if closed_at:
    closed_at.sort()
    print(f"closed: {len(closed_at)} of {n}; first at {closed_at[0]:.2f} s, median {closed_at[len(closed_at)//2]:.2f} s, last {closed_at[-1]:.2f} s after the first connect")
if lived:
    lived.sort()
    print(f"each connection's life from its own connect: min {lived[0]:.2f} s, median {lived[len(lived)//2]:.2f} s, max {lived[-1]:.2f} s")
print(f"server fds after: {fds()}")
