/* api.c - wk-api: the HTTP API on httpAddr (wk-api(8)).
 *
 * Will parse and validate requests, split them by owner shard, gather the
 * replies and answer in the reference's JSON shapes.  For now it answers the
 * built-in STATUS_REQ and PING_REQ and stops cleanly; the HTTP server comes
 * with the connection layer. */
#include "wk_log.h"
#include "wk_proc.h"

static const struct wk_proc_def api_def = {
	.name = "wk-api",
	.role = WK_ROLE_API,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &api_def);
}
