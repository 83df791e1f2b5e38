/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stats socket's server (cz_stats_server.h): a UNIX stream socket
 * served by one thread, so that no client can slow the scheduler's own
 * stats loop.
 *
 * Key choices:
 * - One thread, poll() over a wake-up pipe, the listening socket and every
 *   client; all sockets non-blocking, replies written with MSG_NOSIGNAL (a
 *   client that hangs up mid-reply must not SIGPIPE the scheduler).
 * - Per client: an input buffer holding at most one line of
 *   CZ_STATS_LINE_MAX bytes (a longer line gets an EMSGSIZE reply and the
 *   connection is closed once that is written), and an output buffer.
 *   Requests are peeked, and only those answered are taken off the socket:
 *   once OUT_HIGH bytes of replies wait, further requests stay in the
 *   kernel's buffer until the client reads (back-pressure, not buffering
 *   without bound). A client whose replies make no progress for STALL_S
 *   seconds, or pile up beyond OUT_MAX, is dropped.
 * - At most MAX_CLIENTS connections; when full, the longest-idle one goes if
 *   it has been idle for IDLE_S seconds, else the newcomer is refused.
 * - Start-up refuses a path where a live server answers, replaces a stale
 *   socket (nothing listening: its scheduler died), and never removes
 *   anything that is not a socket. The socket is created with mode 0600
 *   (umask 077 around bind(), then chmod), and removed on close only if the
 *   file there is still ours.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "cz_stats_server.h"
#include "cz_util.h"

enum {
	MAX_CLIENTS	= 32,
	OUT_HIGH	= 64 * 1024,		/* stop reading above this */
	OUT_MAX		= 1024 * 1024,		/* drop above this */
	RECV_CHUNK	= 16 * 1024,
	STALL_S		= 5,
	IDLE_S		= 10,
	TICK_MS		= 500,			/* stall checks while output waits */
};

struct client {
	int	fd;
	char	*in;		/* the current line, not yet complete */
	size_t	in_len;
	char	*out;		/* replies not yet written */
	size_t	out_len;
	size_t	out_off;	/* bytes of out already written */
	double	stalled_at;	/* when writing last made no progress; 0: none */
	double	active_at;	/* last request or connect */
	bool	closing;	/* close once out is written */
};

struct cz_stats_server {
	char			path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int			lfd;
	int			wake[2];
	dev_t			dev;
	ino_t			ino;
	bool			started;
	double			accept_paused_until;
	pthread_t		thread;
	struct cz_stats_source	src;
	struct client		clients[MAX_CLIENTS];
	unsigned int		nr_clients;
};

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	strcpy(sa->sun_path, path);
	return 0;
}

/* mkdir -p of @path's directory. */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	if (cz_mkdirs(dir, 0755)) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * What is at @path: nothing or a stale socket (removed) -> 0; a live
 * server, or not a socket -> -1 with @err.
 */
static int clear_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, ret;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; not touching it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || fill_addr(&sa, path)) {
		snprintf(err, errlen, "cannot probe %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	/* EAGAIN: the listener's backlog is full, so it is alive. */
	if (!ret || errno == EAGAIN) {
		if (!ret && !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) &&
		    cred.pid > 0)
			snprintf(err, errlen, "a running process (pid %d) already serves stats on %s; stop it or use --stats-socket",
				 (int)cred.pid, path);
		else
			snprintf(err, errlen, "a running process already serves stats on %s; stop it or use --stats-socket",
				 path);
		close(fd);
		return -1;
	}
	ret = errno;
	close(fd);
	if (ret != ECONNREFUSED) {
		snprintf(err, errlen, "cannot probe %s: %s", path, strerror(ret));
		return -1;
	}
	/* Nobody listens: left behind by a scheduler that died. */
	if (unlink(path) && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int cz_stats_server_open(struct cz_stats_server **out, const char *path,
		       char *err, size_t errlen)
{
	struct cz_stats_server *srv;
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int ret;

	*out = NULL;
	if (fill_addr(&sa, path)) {
		snprintf(err, errlen, "socket path too long (max %zu bytes): %s",
			 sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	if (make_parent(path, err, errlen) || clear_path(path, err, errlen))
		return -1;

	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	srv->wake[0] = srv->wake[1] = -1;
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	/* No window in which the socket is open to others. */
	old = umask(077);
	ret = bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret) {
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(errno));
		goto fail;
	}
	if (chmod(path, 0600) || stat(path, &st) || listen(srv->lfd, 16) ||
	    pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK)) {
		snprintf(err, errlen, "cannot set up %s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	*out = srv;
	return 0;
fail:
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->wake[0] >= 0) {
		close(srv->wake[0]);
		close(srv->wake[1]);
	}
	free(srv);
	return -1;
}

static void drop(struct client *c)
{
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static size_t pending(const struct client *c)
{
	return c->out_len - c->out_off;
}

/* Queue @len bytes of reply; false if the client has to go. */
static bool queue(struct client *c, const char *buf, size_t len)
{
	char *p;

	if (pending(c) + len > OUT_MAX)
		return false;
	if (c->out_off) {	/* slide what is left to the front */
		memmove(c->out, c->out + c->out_off, pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	p = realloc(c->out, c->out_len + len);
	if (!p)
		return false;
	memcpy(p + c->out_len, buf, len);
	c->out = p;
	c->out_len += len;
	return true;
}

static bool answer(struct cz_stats_server *srv, struct client *c,
		   const char *line, size_t len)
{
	size_t rlen;
	char *reply = cz_stats_handle(&srv->src, line, len, &rlen);
	bool ok = reply && queue(c, reply, rlen);

	free(reply);
	c->active_at = cz_now();
	return ok;
}

static bool refuse_long_line(struct client *c)
{
	char msg[64];
	size_t rlen;
	char *reply;
	bool ok;

	snprintf(msg, sizeof(msg), "request longer than %d bytes", CZ_STATS_LINE_MAX);
	reply = cz_stats_error_reply(EMSGSIZE, msg, &rlen);
	ok = reply && queue(c, reply, rlen);
	free(reply);
	/* The rest of that line is still coming: stop reading, close. */
	c->closing = true;
	c->in_len = 0;
	return ok;
}

/*
 * Answer the complete lines in @buf (bytes peeked from the socket) and keep
 * a trailing partial line. Stops after a line once OUT_HIGH bytes of replies
 * wait, so that the rest stays in the kernel's buffer and the client is
 * slowed down instead of us buffering for it. Returns the bytes used, or -1
 * if the client has to go.
 */
static ssize_t take(struct cz_stats_server *srv, struct client *c,
		    const char *buf, size_t len)
{
	size_t used = 0;

	while (used < len && !c->closing && pending(c) < OUT_HIGH) {
		const char *p = buf + used;
		const char *nl = memchr(p, '\n', len - used);
		size_t seg = nl ? (size_t)(nl - p) : len - used;

		if (c->in_len + seg > CZ_STATS_LINE_MAX)
			return refuse_long_line(c) ? (ssize_t)len : -1;
		if (nl && !c->in_len) {
			/* The common case: a whole line in this chunk. */
			if (!answer(srv, c, p, seg))
				return -1;
		} else {
			if (!c->in) {
				c->in = malloc(CZ_STATS_LINE_MAX);
				if (!c->in)
					return -1;
			}
			memcpy(c->in + c->in_len, p, seg);
			c->in_len += seg;
			if (nl) {
				if (!answer(srv, c, c->in, c->in_len))
					return -1;
				c->in_len = 0;
			}
		}
		used += seg + (nl ? 1 : 0);
	}
	return used;
}

/* Write what we can; false if the client has to go. */
static bool flush(struct client *c, double now)
{
	while (pending(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->stalled_at)
				c->stalled_at = now;
			return now - c->stalled_at < STALL_S;
		}
		if (n <= 0)
			return false;	/* EPIPE, ECONNRESET: gone mid-reply */
		c->out_off += n;
		c->stalled_at = 0;
	}
	c->out_off = c->out_len = 0;
	c->stalled_at = 0;
	return !c->closing;
}

/* Read what is there; false if the client has to go. */
static bool receive(struct cz_stats_server *srv, struct client *c)
{
	char buf[RECV_CHUNK];
	ssize_t n, used;

	/* Peek: what take() leaves unanswered stays in the socket. */
	n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	if (n == 0) {
		/*
		 * The client shut down its side. Like scx_stats, answer a last
		 * line that lacks its '\n', then close once replies are out.
		 */
		if (c->in_len && !answer(srv, c, c->in, c->in_len))
			return false;
		c->in_len = 0;
		c->closing = true;
		return true;
	}
	used = take(srv, c, buf, n);
	return used >= 0 && recv(c->fd, buf, used, MSG_DONTWAIT) == used;
}

static void accept_all(struct cz_stats_server *srv, double now)
{
	for (;;) {
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c, *idlest = NULL;

		if (fd < 0) {
			/*
			 * Out of fds or memory: the listener stays readable, so
			 * wait a tick rather than spin on it.
			 */
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ECONNABORTED && errno != EINTR)
				srv->accept_paused_until = now + TICK_MS / 1000.0;
			return;
		}
		if (srv->nr_clients == MAX_CLIENTS) {
			for (unsigned int i = 0; i < srv->nr_clients; i++) {
				c = &srv->clients[i];
				if (!pending(c) && (!idlest || c->active_at < idlest->active_at))
					idlest = c;
			}
			if (!idlest || now - idlest->active_at < IDLE_S) {
				close(fd);
				continue;
			}
			drop(idlest);
			*idlest = srv->clients[--srv->nr_clients];
		}
		c = &srv->clients[srv->nr_clients++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->active_at = now;
	}
}

static void *serve(void *arg)
{
	struct cz_stats_server *srv = arg;
	struct pollfd pfd[2 + MAX_CLIENTS];

	for (;;) {
		unsigned int n = srv->nr_clients, i;
		bool waiting = false;
		double now;

		pfd[0] = (struct pollfd){ .fd = srv->wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = srv->lfd, .events = POLLIN };
		if (srv->accept_paused_until) {
			if (cz_now() < srv->accept_paused_until) {
				pfd[1].events = 0;
				waiting = true;
			} else {
				srv->accept_paused_until = 0;
			}
		}
		for (i = 0; i < n; i++) {
			struct client *c = &srv->clients[i];
			short ev = 0;

			if (!c->closing && pending(c) < OUT_HIGH)
				ev |= POLLIN;
			if (pending(c)) {
				ev |= POLLOUT;
				waiting = true;
			}
			pfd[2 + i] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		if (poll(pfd, 2 + n, waiting ? TICK_MS : -1) < 0) {
			struct timespec tick = { 0, TICK_MS * 1000000L };

			/* ENOMEM and the like pass; keep serving afterwards. */
			if (errno != EINTR)
				nanosleep(&tick, NULL);
			continue;
		}
		if (pfd[0].revents)
			break;
		now = cz_now();

		/* Clients polled this round are 0..n-1; newcomers go after. */
		for (i = 0; i < n; i++) {
			struct client *c = &srv->clients[i];
			short rev = pfd[2 + i].revents;
			bool keep = true;

			if (rev & (POLLERR | POLLHUP | POLLNVAL))
				keep = false;
			else if (rev & POLLIN)
				keep = receive(srv, c);
			/* Write at once what a request produced; also times stalls. */
			if (keep && (pending(c) || c->closing))
				keep = flush(c, now);
			if (!keep)
				drop(c);
		}
		/* Fill the holes left by dropped clients. */
		for (i = 0; i < srv->nr_clients; ) {
			if (srv->clients[i].fd >= 0) {
				i++;
				continue;
			}
			srv->clients[i] = srv->clients[--srv->nr_clients];
		}
		if (pfd[1].revents & POLLIN)
			accept_all(srv, now);
	}
	return NULL;
}

int cz_stats_server_start(struct cz_stats_server *srv,
			const struct cz_stats_source *src)
{
	sigset_t all, old;
	int ret;

	srv->src = *src;
	/* Signals are the main thread's business (SIGINT stops it). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&srv->thread, NULL, serve, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	srv->started = true;
	return 0;
}

void cz_stats_server_close(struct cz_stats_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	if (srv->started) {
		while (write(srv->wake[1], "x", 1) < 0 && errno == EINTR)
			;
		pthread_join(srv->thread, NULL);
	}
	for (unsigned int i = 0; i < srv->nr_clients; i++)
		drop(&srv->clients[i]);
	close(srv->lfd);
	close(srv->wake[0]);
	close(srv->wake[1]);
	/* Someone may have replaced it meanwhile: remove only our own. */
	if (!stat(srv->path, &st) && st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	free(srv);
}
