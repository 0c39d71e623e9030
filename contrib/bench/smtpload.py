#!/usr/bin/env python3
"""smtpload.py: SMTP sessions, optionally with AUTH PLAIN, in parallel.

smtpload.py HOST PORT SESSIONS PARALLEL FROM TO EXPECT [LOGIN PASSWORD]

Each session: EHLO, [AUTH PLAIN], MAIL FROM, RCPT TO; if the RCPT reply
is 250, a small message; QUIT.  "{i}" in FROM and LOGIN becomes the
session number modulo LOGINS (env, default 1), two digits, from 01.
Prints "sessions=N expected=K other=M seconds=T" and the first other
RCPT reply; exits 1 unless every RCPT reply started with EXPECT.
"""
import os
import smtplib
import sys
import threading
import time

host, port, n, par, frm, to, expect = sys.argv[1:8]
login, password = (sys.argv[8:10] + [None, None])[:2]
n, par, port = int(n), int(par), int(port)
logins = int(os.environ.get("LOGINS", "1"))
lock = threading.Lock()
state = {"next": 0, "ok": 0, "other": 0, "first": None}


def one(i):
    tag = f"{i % logins + 1:02d}"
    with smtplib.SMTP(host, port, local_hostname="client.example", timeout=30) as s:
        s.ehlo()
        if login:
            s.login(login.replace("{i}", tag), password)
        s.mail(frm.replace("{i}", tag))
        code, text = s.rcpt(to)
        if code == 250:
            s.data(b"Subject: bench\r\n\r\nbench\r\n")
        return f"{code} {text.decode(errors='replace')}"


def worker():
    while True:
        with lock:
            i = state["next"]
            if i >= n:
                return
            state["next"] += 1
        try:
            reply = one(i)
        except (OSError, smtplib.SMTPException) as e:
            reply = f"error {e}"
        with lock:
            if reply.startswith(expect):
                state["ok"] += 1
            else:
                state["other"] += 1
                state["first"] = state["first"] or reply


t0 = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(par)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(
    f"sessions={n} expected={state['ok']} other={state['other']} "
    f"seconds={time.monotonic() - t0:.2f}"
)
if state["first"]:
    print(f"first other reply: {state['first']}")
sys.exit(0 if state["other"] == 0 else 1)
