/* convbound.c - the machine's limit for /conversation/sync answers of a
 * given size (bench/README.md): an HTTP server with nothing behind it
 * that answers every POST with a copy of one file (an answer wk gave,
 * saved by conv.sh), through libmicrohttpd as wk-api uses it (epoll, one
 * thread, a fresh buffer per answer).  convbench -B then measures what
 * the HTTP edge and the clients alone allow; wk's figure cannot be higher.
 *
 *   convbound -p PORT -f ANSWER.json     (runs until killed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>

static char *answer;
static size_t answer_len;

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *data, size_t *data_len, void **state)
{
	static int started;
	struct MHD_Response *resp;
	enum MHD_Result rc;
	char *copy;

	(void)cls; (void)url; (void)method; (void)version; (void)data;
	if (*state == NULL) {
		*state = &started;
		return MHD_YES;
	}
	if (*data_len) {
		*data_len = 0;               /* the request body is not read */
		return MHD_YES;
	}
	/* A fresh copy, as wk-api hands MHD a fresh answer each time. */
	copy = malloc(answer_len);
	memcpy(copy, answer, answer_len);
	resp = MHD_create_response_from_buffer(answer_len, copy, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
	rc = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *file = NULL;
	int ch, port = 0;
	FILE *f;
	struct MHD_Daemon *d;

	while ((ch = getopt(argc, argv, "p:f:")) != -1)
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'f': file = optarg; break;
		default:
			fprintf(stderr, "usage: convbound -p port -f answer.json\n");
			return 2;
		}
	if (file == NULL || port <= 0 || (f = fopen(file, "rb")) == NULL) {
		fprintf(stderr, "usage: convbound -p port -f answer.json\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	answer_len = (size_t)ftell(f);
	rewind(f);
	answer = malloc(answer_len + 1);
	if (fread(answer, 1, answer_len, f) != answer_len) {
		fprintf(stderr, "convbound: %s: short read\n", file);
		return 1;
	}
	fclose(f);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port,
	    NULL, NULL, on_request, NULL, MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "convbound: cannot listen on %d\n", port);
		return 1;
	}
	for (;;)
		pause();
}
