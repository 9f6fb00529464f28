/* hook.c - wk-hook: the outgoing webhook queue (wk-hook(8)).
 *
 * Owns <dataDir>/hook-0, a Berkeley DB environment holding the durable
 * queue of events to POST to webhook.httpAddr.  Messages handled: the
 * built-in STATUS_REQ and PING_REQ for now; the events come with the
 * webhook layer. */
#include "wk_db.h"
#include "wk_log.h"
#include "wk_proc.h"

static struct hook {
	struct wk_db_env env;
	DB *queue;
} hook;

static int
hook_on_start(struct wk_proc *p)
{
	if (wk_proc_db_open(p, &hook.env) < 0)
		return -1;
	return wk_db_open(&hook.env, "queue.db", &hook.queue);
}

static void
hook_on_stop(struct wk_proc *p)
{
	if (hook.queue)
		hook.queue->close(hook.queue, 0);
	hook.queue = NULL;
	wk_db_env_close(&hook.env);
}

static void
hook_on_tick(struct wk_proc *p)
{
	wk_db_checkpoint_due(&hook.env, p->cfg.storage_checkpointInterval);
}

static const struct wk_proc_def hook_def = {
	.name = "wk-hook",
	.role = WK_ROLE_HOOK,
	.on_start = hook_on_start,
	.on_tick = hook_on_tick,
	.tick_ms = 1000,
	.on_stop = hook_on_stop,
};

int
main(int argc, char **argv)
{
	return wk_proc_main(argc, argv, &hook_def);
}
