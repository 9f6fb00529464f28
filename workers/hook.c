/* hook.c - wk-hook: the outgoing webhook queue (wk-hook(8)).
 *
 * Owns <dataDir>/hook-0, a Berkeley DB environment holding the durable
 * queue of events to POST to webhook.httpAddr.  Messages handled: the
 * built-in STATUS_REQ and PING_REQ for now; the events come with the
 * webhook layer. */
#include "wk_proc.h"

static const char *const hook_databases[] = { "queue.db", NULL };

static const struct wk_proc_def hook_def = {
	.name = "wk-hook",
	.role = WK_ROLE_HOOK,
	.databases = hook_databases,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &hook_def);
}
