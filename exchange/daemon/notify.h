/* notify.h: tell the service manager when the node is ready, reloading or stopping (sd_notify protocol)
 *
 * systemd starts a Type=notify service with NOTIFY_SOCKET set to a Unix
 * datagram socket (a path, or "@name" in the abstract namespace); the service
 * sends newline-separated "KEY=VALUE" lines there: READY=1 once it serves,
 * RELOADING=1 when a reload begins (READY=1 again when it is done),
 * STOPPING=1 when it starts to shut down. This is the documented protocol
 * (sd_notify(3), "Notes"), written out here so that xbusd needs no
 * libsystemd; without NOTIFY_SOCKET every call does nothing.
 *
 * Threads: any thread; each call opens, sends on and closes its own socket.
 */
#pragma once

/* notify_send(): send `state` ("READY=1", "STOPPING=1", ... lines) to $NOTIFY_SOCKET.
 * Return: 1 when sent, 0 when NOTIFY_SOCKET is unset or empty, -EINVAL for an address that is neither
 * absolute nor abstract or too long, or -errno from socket/sendto. */
int notify_send(const char *state);

/* notify_reloading(): "RELOADING=1" with MONOTONIC_USEC (which systemd's Type=notify-reload wants). Return: as
 * notify_send(). */
int notify_reloading(void);
