/* api_console_tree.c - GET /console/tree (wk-api(8), CONSOLE): the process
 * tree as wk-master sees it, the same lines as `wkctl status`.
 *
 * wk-api asks wk-master's control socket (<runDir>/master.sock, see
 * wk-master(8)) "status" without blocking its loop: the socket joins the
 * loop and the request is suspended until the master has written every
 * line and closed (it waits at most a second for its children).  Each line
 * "state=ready restarts=0 role=channel instance=0 pid=… key=value …"
 * becomes an object, numbers as numbers:
 *   {"processes":[{"state":"running","role":"master",…},…]}
 * The webhook queue is the hook process's line (wk-hook(8)). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "api.h"
#include "wk_alloc.h"
#include "wk_loop.h"

#define TREE_MAX (256 * 1024)   /* a status reply longer than this is cut */

/* The request's state while the master answers (r->ctx). */
struct tree_ask {
	struct wk_proc *p;
	struct api_req *r;
	int fd;
	char *buf;
	size_t len, cap;
};

static void
tree_ask_free(void *ctx)
{
	struct tree_ask *t = ctx;

	if (t->fd >= 0) {
		wk_loop_del(t->p->loop, t->fd);
		close(t->fd);
	}
	free(t->buf);
	free(t);
}

/* One "k=v k=v" line as an object; values of digits only are numbers. */
static json_t *
line_object(char *line)
{
	json_t *o = json_object();
	char *save = NULL, *w;

	for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '='), *end;
		long long v;
		if (eq == NULL || eq == w)
			continue;
		*eq++ = '\0';
		v = strtoll(eq, &end, 10);
		if (*eq && *end == '\0' && eq[0] != '-' && strlen(eq) < 19)
			json_object_set_new(o, w, json_integer(v));
		else
			json_object_set_new(o, w, json_string(eq));
	}
	return o;
}

/* The master closed: answer with what it wrote. */
static void
tree_answer(struct tree_ask *t)
{
	struct api_req *r = t->r;
	json_t *list = json_array();
	char *line, *save = NULL;

	wk_grow(&t->buf, &t->cap, t->len + 1);
	t->buf[t->len] = '\0';
	for (line = strtok_r(t->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strchr(line, '=') != NULL)
			json_array_append_new(list, line_object(line));
	r->waiting = 0;
	if (json_array_size(list) == 0) {
		json_decref(list);
		api_answer_error(r, 503, "wk-master gave no status");
	} else
		api_answer_json(r, 200, json_pack("{s:o}", "processes", list));
	api_http_resume(t->p, r);
}

static void
on_master(struct wk_loop *l, int fd, uint32_t ev, void *arg)
{
	struct tree_ask *t = arg;
	ssize_t n;

	wk_grow(&t->buf, &t->cap, t->len + 4096);
	n = read(fd, t->buf + t->len, t->cap - t->len - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && t->len + n < TREE_MAX) {
		t->len += n;
		return;
	}
	wk_loop_del(l, fd);
	close(fd);
	t->fd = -1;
	tree_answer(t);
}

void
api_route_console_tree(struct wk_proc *p, struct api_req *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct tree_ask *t;
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/master.sock", p->cfg.runDir) >=
	    sizeof sa.sun_path) {
		api_answer_error(r, 503, "runDir is too long for a control socket");
		return;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* A unix socket connects at once or not at all; the command fits its buffer. */
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    write(fd, "status\n", 7) != 7) {
		if (fd >= 0)
			close(fd);
		api_answer_error(r, 503, "wk-master's control socket does not answer "
		    "(wk-api started without a tree?)");
		return;
	}
	t = wk_calloc(1, sizeof *t);
	t->p = p;
	t->r = r;
	t->fd = fd;
	r->ctx = t;
	r->ctx_free = tree_ask_free;
	if (wk_loop_add(p->loop, fd, EPOLLIN, on_master, t) < 0) {
		close(fd);
		t->fd = -1;
		api_answer_error(r, 500, "epoll add");
		return;
	}
	r->waiting = 1;
}
