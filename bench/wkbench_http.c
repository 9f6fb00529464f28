/* wkbench_http.c - what wkbench sets up through the HTTP API (-H) before a
 * run: scenario 3's group (POST /channel, /channel/subscriber_add) and, with
 * -U, a token per user (POST /user/token). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "wk_time.h"
#include "wkbench.h"

/* One blocking request per call, Connection: close: the status, the
 * response (head and body) in resp. */
static long
http_post(const char *path, const char *body, char *resp, size_t cap)
{
	char host[128], head[512];
	const char *colon;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, hn;
	size_t len = 0, blen = strlen(body);
	long st = -1;

	if ((colon = strrchr(wkbench_opt.http, ':')) == NULL)
		wkbench_die("-H %s: want host:port", wkbench_opt.http);
	snprintf(host, sizeof host, "%.*s", (int)(colon - wkbench_opt.http), wkbench_opt.http);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		wkbench_die("-H %s: want an IPv4 address", wkbench_opt.http);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		wkbench_die("HTTP %s: %s", wkbench_opt.http, strerror(errno));
	hn = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", path, wkbench_opt.http, blen);
	if (write(fd, head, (size_t)hn) != hn || write(fd, body, blen) != (ssize_t)blen)
		wkbench_die("HTTP %s: write failed", path);
	for (;;) {
		ssize_t r = read(fd, resp + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == cap - 1)
			break;
	}
	resp[len] = '\0';
	close(fd);
	sscanf(resp, "HTTP/1.%*d %ld", &st);
	return st;
}

static void
post_or_die(const char *path, const char *body)
{
	static char resp[65536];
	long st = http_post(path, body, resp, sizeof resp);

	if (st != 200)
		wkbench_die("POST %s: status %ld: %.200s", path, st, resp);
}

/* Scenario 3's group: wkbench_opt.group members (the sender and wkbench_opt.n - 1 online ones
 * among them), made with POST /channel and /channel/subscriber_add, 10,000 a call. */
void
wkbench_make_group(void)
{
	size_t cap = 64 + 10000 * 64;
	char *body = malloc(cap);
	long m = 0, members = wkbench_opt.group - 1;	/* plus the sender */
	int first = 1;
	uint64_t t0 = wk_now_us();

	while (first || m < members) {
		size_t len = (size_t)snprintf(body, cap, "{\"channel_id\":\"%sg\",\"channel_type\":2,"
		    "\"subscribers\":[", wkbench_opt.prefix);
		int k = 0;
		if (first)
			len += (size_t)snprintf(body + len, cap - len, "\"%ss\"", wkbench_opt.prefix), k++;
		for (; k < 10000 && m < members; k++, m++)
			len += (size_t)snprintf(body + len, cap - len, "%s\"%sm%ld\"", k ? "," : "",
			    wkbench_opt.prefix, m);
		snprintf(body + len, cap - len, "]}");
		post_or_die(first ? "/channel" : "/channel/subscriber_add", body);
		first = 0;
	}
	free(body);
	printf("group %sg: %ld members (POST /channel + /channel/subscriber_add) in %.2f s\n",
	    wkbench_opt.prefix, wkbench_opt.group, (double)(wk_now_us() - t0) / 1e6);
}

/* -U: a token per user through POST /user/token (not needed with
 * tokenAuthOn: false, but it is what an application server does). */
void
wkbench_make_users(long total)
{
	char body[256], uid[64];
	uint64_t t0 = wk_now_us();

	for (long k = 0; k < total; k++) {
		if (wkbench_opt.scenario == 3)
			snprintf(uid, sizeof uid, k == 0 ? "%ss" : "%sm%ld", wkbench_opt.prefix, k - 1);
		else
			snprintf(uid, sizeof uid, "%s%c%ld", wkbench_opt.prefix, k % 2 ? 'r' : 's', k / 2);
		snprintf(body, sizeof body, "{\"uid\":\"%s\",\"token\":\"bench\",\"device_flag\":0,"
		    "\"device_level\":1}", uid);
		post_or_die("/user/token", body);
	}
	printf("users: %ld tokens (POST /user/token) in %.2f s\n", total,
	    (double)(wk_now_us() - t0) / 1e6);
}
