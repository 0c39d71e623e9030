#!/usr/bin/env python3
"""miltload-selftest.py MILTLOAD - check miltload against scripted milters.

Each case is a fake milter on a unix socket that negotiates some flags and
answers (or misbehaves) in some way; the check is what miltload saw: the
commands it sent, the steps it counted, the errors, and that it neither
crashed nor hung.  Prints "N passed, N failed".
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading

MILTLOAD = sys.argv[1] if len(sys.argv) > 1 else "./miltload"

NR_CONN, NR_HELO, NR_MAIL, NR_RCPT = 0x1000, 0x2000, 0x4000, 0x8000
NOCONNECT, NOHELO, NOMAIL, NORCPT = 0x1, 0x2, 0x4, 0x8
NOBODY, NOHDRS, NOEOH, NODATA, NR_HDR = 0x10, 0x20, 0x40, 0x200, 0x80
SETSYMLIST = 0x100


def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def read_pkt(conn):
    hdr = b""
    while len(hdr) < 4:
        b = conn.recv(4 - len(hdr))
        if not b:
            return None, None
        hdr += b
    n = struct.unpack(">I", hdr)[0]
    data = b""
    while len(data) < n:
        b = conn.recv(n - len(data))
        if not b:
            return None, None
        data += b
    return data[:1], data[1:]


class Fake:
    """A milter: negotiate(proto, actions, symlists), then behave(cmd, data)
    returns the bytes to send (b"" for none) or None to hang up."""

    def __init__(self, path, proto, behave, actions=0, symlists=b"",
                 optneg=None):
        self.path, self.proto, self.behave = path, proto, behave
        self.actions, self.symlists, self.optneg = actions, symlists, optneg
        self.seen = []  # (cmd, data) of every session, in order
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(64)
        self.stop = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,),
                             daemon=True).start()

    def serve(self, conn):
        try:
            while True:
                cmd, data = read_pkt(conn)
                if cmd is None:
                    break
                with self.lock:
                    self.seen.append((cmd, data))
                if cmd == b"Q":
                    break  # as libmilter: close after QUIT
                if cmd == b"O":
                    if self.optneg is not None:
                        # a scripted (broken) answer, then hang up
                        conn.sendall(self.optneg)
                        break
                    else:
                        out = pkt(b"O", struct.pack(">III", 6, self.actions,
                                                    self.proto)
                                  + self.symlists)
                else:
                    out = self.behave(cmd, data)
                if out is None:
                    break
                if out:
                    conn.sendall(out)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop = True
        self.sock.close()


def ok_reply(proto):
    """The reply a well-behaved milter gives: none where NR_* was asked."""
    nr = {b"C": NR_CONN, b"H": NR_HELO, b"M": NR_MAIL, b"R": NR_RCPT,
          b"T": 0x10000, b"L": NR_HDR, b"N": 0x40000, b"B": 0x80000}

    def behave(cmd, data):
        if cmd in (b"D", b"A", b"Q"):
            return b""
        if cmd in nr and proto & nr[cmd]:
            return b""
        return pkt(b"c")
    return behave


def run(path, *args, timeout=30):
    p = subprocess.run([MILTLOAD, "-s", "unix:" + path] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    rows = {}
    lines = p.stdout.splitlines()
    if lines:
        head = lines[0].split("\t")
        for line in lines[1:]:
            f = dict(zip(head, line.split("\t")))
            rows[f["step"]] = f
    return p.returncode, rows, p.stderr


passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + (": " + detail if detail else ""))


def case(name, proto, behave, args, verify, **kw):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.sock")
        f = Fake(path, proto, behave, **kw)
        try:
            rc, rows, err = run(path, *args)
        except subprocess.TimeoutExpired:
            check(name, False, "miltload hung")
            return
        finally:
            f.close()
        if rc < 0 or rc > 2:
            check(name, False, "miltload died (%d): %s" % (rc, err))
            return
        verify(name, rc, rows, err, f.seen)


def cmds(seen):
    return b"".join(c for c, _ in seen)


# 1. relaymilter's negotiation: connect and HELO unanswered, the macro
#    lists honoured, MAIL/RCPT answered, ABORT, QUIT
P1 = NR_CONN | NR_HELO | NOHDRS | NOBODY | NOEOH | NODATA | 0x100
SYM = (struct.pack(">I", 0) + b"j {daemon_name} {client_name}\0"
       + struct.pack(">I", 3) + b"{rcpt_addr}\0")


def v1(name, rc, rows, err, seen):
    check(name + ": exit 0", rc == 0, err)
    check(name + ": command order", cmds(seen) == b"ODCHDMDRAQ",
          repr(cmds(seen)))
    macs = [d for c, d in seen if c == b"D"]
    check(name + ": connect macros are the milter's list",
          macs[0] == b"Cj\0mx.example.com\0{daemon_name}\0smtpd\0"
          b"{client_name}\0unknown\0", repr(macs[0]))
    check(name + ": no macros for HELO (Postfix's list, none known)",
          not any(m[:1] == b"H" for m in macs))
    check(name + ": rcpt macros", macs[-1] == b"R{rcpt_addr}\0user1@example.com\0",
          repr(macs[-1]))
    conn = [d for c, d in seen if c == b"C"][0]
    check(name + ": connect packet", conn.startswith(b"unknown\x004")
          and conn.endswith(b"192.0.2.9\0"), repr(conn))
    check(name + ": counts", rows["connect"]["replied"] == "0"
          and rows["mail"]["replied"] == "1" and rows["rcpt"]["sent"] == "1"
          and rows["rcpt"]["continue"] == "1", repr(rows.get("rcpt")))


case("negotiated like relaymilter", P1, ok_reply(P1),
     ["-n", "1", "-c", "1", "-a", "192.0.2.9"], v1, actions=SETSYMLIST,
     symlists=SYM)

# 2. steps negotiated away are not sent; NR everywhere: no reply awaited
P2 = NOCONNECT | NOHELO | NR_MAIL | NR_RCPT


def v2(name, rc, rows, err, seen):
    check(name + ": exit 0", rc == 0, err)
    check(name + ": no connect, no helo",
          b"C" not in cmds(seen) and b"H" not in cmds(seen), repr(cmds(seen)))
    check(name + ": nothing awaited", rows["mail"]["replied"] == "0"
          and rows["rcpt"]["replied"] == "0" and rows["rcpt"]["sent"] == "6")


case("NO* and NR_*", P2, ok_reply(P2),
     ["-n", "3", "-c", "2", "-k", "2"], v2)

# 3. data path with its steps, and a 6-byte body chunked as one
P3 = NR_CONN | NR_HELO


def v3(name, rc, rows, err, seen):
    check(name + ": exit 0", rc == 0, err)
    check(name + ": data order", cmds(seen) ==
          b"ODCHDMDRDTLLLLLDNBDEQ", repr(cmds(seen)))
    check(name + ": eom replied", rows["eom"]["replied"] == "1")


case("data path", P3, ok_reply(P3),
     ["-n", "1", "-c", "1", "-e", "data", "-b", "6"], v3)

# 4. rejections: RCPT refused with a reply code, session goes on
def rej(cmd, data):
    if cmd == b"R":
        return pkt(b"y", b"550 5.7.1 no\0")
    return ok_reply(P1)(cmd, data)


def v4(name, rc, rows, err, seen):
    check(name + ": exit 0", rc == 0, err)
    check(name + ": replycode counted", rows["rcpt"]["replycode"] == "4")
    check(name + ": abort after refused rcpts", cmds(seen).count(b"A") == 2)


case("refused recipients", P1, rej, ["-n", "2", "-c", "1", "-k", "2"], v4)

# 5-12. misbehaving milters: each session is an error, no crash, no hang
BAD = [
    ("hang up at once", b"", None, "closed by the milter"),
    ("zero length", pkt(b"O", b"")[:0] + struct.pack(">I", 0), None,
     "bad packet length"),
    ("huge length", struct.pack(">I", 0xffffffff), None, "bad packet length"),
    ("short packet then close", struct.pack(">I", 50) + b"Oxx", None,
     "in the middle of a packet"),
    ("short negotiation", pkt(b"O", b"\0\0\0\6"), None, "expected >= 12"),
    ("wrong negotiation reply", pkt(b"c"), None, "expected 'O'"),
    ("unoffered protocol flag",
     pkt(b"O", struct.pack(">III", 6, 0, 0x40000000)), None,
     "did not offer"),
    ("version 7", pkt(b"O", struct.pack(">III", 7, 0, 0)), None,
     "version 7"),
    ("bad macro stage",
     pkt(b"O", struct.pack(">III", 6, SETSYMLIST, 0) + struct.pack(">I", 9)
         + b"j\0"), None, "macro stage"),
    ("unterminated macro list",
     pkt(b"O", struct.pack(">III", 6, SETSYMLIST, 0) + struct.pack(">I", 0)
         + b"j"), None, "unterminated"),
    ("unexpected reply", None,
     lambda c, d: pkt(b"Z") if c == b"M" else ok_reply(P1)(c, d),
     "unexpected reply 'Z'"),
    ("modification at RCPT", None,
     lambda c, d: pkt(b"h", b"X\0y\0") if c == b"R"
     else ok_reply(P1)(c, d), "modification 'h'"),
    ("malformed reply code", None,
     lambda c, d: pkt(b"y", b"hello\0") if c == b"R"
     else ok_reply(P1)(c, d), "malformed"),
    ("data after QUIT", None,
     lambda c, d: pkt(b"c") if c == b"A" else ok_reply(P1)(c, d),
     "after QUIT"),
]

for title, optneg, behave, expect in BAD:
    def vbad(name, rc, rows, err, seen, expect=expect):
        check(name + ": exit 1", rc == 1, "rc %d: %s" % (rc, err))
        check(name + ": all 3 sessions are errors",
              rows.get("session", {}).get("errors") == "3",
              repr(rows.get("session")))
        check(name + ": the reason is told", expect in err, err)
    case(title, P1, behave or ok_reply(P1), ["-n", "3", "-c", "2"], vbad,
         optneg=optneg)


# a milter that never answers: the timeout ends it
def vhang(name, rc, rows, err, seen):
    check(name + ": exit 1", rc == 1, err)
    check(name + ": timed out", "timed out" in err, err)


case("silent milter", P1, lambda c, d: b"", ["-n", "1", "-t", "1"], vhang)


# nobody listening
def refused():
    with tempfile.TemporaryDirectory() as d:
        rc, rows, err = run(os.path.join(d, "none.sock"), "-n", "2")
        check("no milter: exit 1", rc == 1, err)
        check("no milter: connect errors", "connect:" in err, err)


refused()

# bad options are refused with exit 2
for args in (["-n", "0"], ["-c", "x"], ["-k", "-1"], ["-a", "nonsense"],
             ["-r", "a%s@b"], ["-e", "maybe"]):
    p = subprocess.run([MILTLOAD, "-s", "unix:/nonexistent"] + args,
                       capture_output=True, text=True)
    check("option %s refused" % " ".join(args), p.returncode == 2,
          p.stderr)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
