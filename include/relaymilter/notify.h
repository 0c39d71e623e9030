/*
 * notify.h - tell the service manager how the daemon is (systemd's
 * sd_notify protocol: a datagram to $NOTIFY_SOCKET; nothing when it is
 * not set).  "READY=1" once the socket listens, "RELOADING=1" and
 * "READY=1" around a reload, "STOPPING=1", and a one-line "STATUS=".
 */
#ifndef RM_NOTIFY_H
#define RM_NOTIFY_H

/* rm_notify - send text (one or more "KEY=value" lines); errors ignored. */
void rm_notify(const char *text);

#endif
