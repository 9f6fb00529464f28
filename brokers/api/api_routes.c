/* api_routes.c - wk-api's route table (wk-api(8)): method and path to the
 * handler.  The handlers live by resource: api_user.c, api_channel.c,
 * api_message.c, api_msgops.c, api_conv.c, api_stream.c, api_health.c,
 * api_metrics.c, api_connz.c, api_compat.c, api_import.c.
 * Routes marked open need no manager token (api_auth.c).  A * segment
 * matches any one non-empty segment, and a * ending the path everything
 * after what comes before it; the first row that matches wins.  Every
 * route of the reference has a row here or a decision in wk-api(8),
 * "Reference routes".
 */
#include <string.h>
#include "api.h"

static const struct api_route api_routes[] = {
	/* Open: load balancers' checks and what SDKs call need no secret. */
	{ "GET", "/health", api_route_health, 1, NULL },
	{ "GET", "/route", api_route_route, 1, NULL },
	{ "POST", "/route/batch", api_route_route_batch, 1, NULL },
	{ "POST", "/user/token", api_route_user_token, 0, NULL },
	{ "POST", "/user/device_quit", api_route_user_device_quit, 0, NULL },
	{ "POST", "/user/onlinestatus", api_route_user_onlinestatus, 0, NULL },
	{ "POST", "/user/systemuids_add", api_route_sysuids_add, 0, NULL },
	{ "POST", "/user/systemuids_remove", api_route_sysuids_remove, 0, NULL },
	/* wk has no cache apart from the stored set (wk-api(8)). */
	{ "POST", "/user/systemuids_add_to_cache", api_route_sysuids_add, 0, NULL },
	{ "POST", "/user/systemuids_remove_from_cache", api_route_sysuids_remove, 0, NULL },
	{ "GET", "/user/systemuids", api_route_sysuids, 0, NULL },
	{ "POST", "/channel", api_route_channel, 0, NULL },
	{ "POST", "/channel/info", api_route_channel_info, 0, NULL },
	{ "POST", "/channel/delete", api_route_channel_delete, 0, NULL },
	{ "POST", "/channel/subscriber_add", api_route_subscriber_add, 0, NULL },
	{ "POST", "/channel/subscriber_remove", api_route_subscriber_remove, 0, NULL },
	{ "POST", "/channel/subscriber_remove_all", api_route_subscriber_remove_all, 0, NULL },
	{ "POST", "/tmpchannel/subscriber_set", api_route_tmp_subscriber_set, 0, NULL },
	{ "POST", "/channel/blacklist_add", api_route_list, 0, NULL },
	{ "POST", "/channel/blacklist_set", api_route_list, 0, NULL },
	{ "POST", "/channel/blacklist_remove", api_route_list, 0, NULL },
	{ "POST", "/channel/blacklist_remove_all", api_route_list, 0, NULL },
	{ "POST", "/channel/whitelist_add", api_route_list, 0, NULL },
	{ "POST", "/channel/whitelist_set", api_route_list, 0, NULL },
	{ "POST", "/channel/whitelist_remove", api_route_list, 0, NULL },
	{ "POST", "/channel/whitelist_remove_all", api_route_list, 0, NULL },
	{ "GET", "/channel/whitelist", api_route_whitelist_get, 0, NULL },
	{ "POST", "/message/send", api_route_message_send, 0, NULL },
	{ "POST", "/message/sendbatch", api_route_message_sendbatch, 0, NULL },
	{ "POST", "/messages", api_route_messages, 0, NULL },
	{ "POST", "/message", api_route_message, 0, NULL },
	{ "GET", "/message/byclientmsgno", api_route_message_byclientmsgno, 0, NULL },
	{ "POST", "/channel/messagesync", api_route_channel_messagesync, 0, NULL },
	{ "GET", "/channel/max_message_seq", api_route_max_message_seq, 0, NULL },
	{ "GET", "/channel/last_message", api_route_last_message, 0, NULL },
	{ "POST", "/message/event", api_route_message_event, 0, NULL },
	{ "POST", "/message/eventsync", api_route_message_eventsync, 0, NULL },
	{ "POST", "/conversation/sync", api_route_conversation_sync, 0, NULL },
	{ "POST", "/conversation/syncByChannels", api_route_conversation_sync_by_channels, 0, NULL },
	{ "POST", "/conversation/channels", api_route_conversation_channels, 0, NULL },
	{ "POST", "/conversation/syncMessages", api_route_conversation_sync_messages, 0, NULL },
	{ "POST", "/conversations/setUnread", api_route_conversations_set_unread, 0, NULL },
	{ "POST", "/conversations/clearUnread", api_route_conversations_clear_unread, 0, NULL },
	{ "POST", "/conversations/delete", api_route_conversations_delete, 0, NULL },
	{ "POST", "/message/sync", api_route_message_sync, 0, NULL },
	{ "POST", "/message/syncack", api_route_message_syncack, 0, NULL },
	/* Beyond the reference (api_msgops.c). */
	{ "POST", "/message/revoke", api_route_message_revoke, 0, NULL },
	{ "POST", "/message/edit", api_route_message_edit, 0, NULL },
	{ "POST", "/channel/retention", api_route_channel_retention, 0, NULL },
	/* The operator's (api_metrics.c, api_connz.c). */
	{ "GET", "/metrics", api_route_metrics, 0, NULL },
	{ "GET", "/varz", api_route_varz, 0, NULL },
	{ "GET", "/connz", api_route_connz, 0, NULL },
	{ "POST", "/conn/kick", api_route_conn_kick, 0, NULL },
	{ "POST", "/conn/remove", api_route_conn_remove, 0, NULL },
	/* The documentation routes as the reference answers them in release mode. */
	{ "GET", "/docs", api_route_docs, 0, NULL },
	{ "GET", "/docs/", api_route_docs, 0, NULL },
	{ "GET", "/docs/openapi.json", api_route_docs, 0, NULL },
	{ "GET", "/docs/health", api_route_docs_health, 0, NULL },
	/* What wkctl import reads of a source (the reference's cluster routes,
	 * a wk tree as a source answers them too) and writes into wk
	 * (api_import.c); before the other cluster routes. */
	{ "GET", "/cluster/channels", api_route_cluster_channels, 0, NULL },
	{ "GET", "/cluster/channels/*/*/subscribers", api_route_cluster_list, 0, NULL },
	{ "GET", "/cluster/channels/*/*/denylist", api_route_cluster_list, 0, NULL },
	{ "GET", "/cluster/channels/*/*/allowlist", api_route_cluster_list, 0, NULL },
	{ "POST", "/message/import", api_route_message_import, 0, NULL },
	/* The reference's "not supported" answer, with why (api_compat.c). */
	{ "POST", "/manager/login", api_route_unsupported, 0, API_WHY_MANAGER },
	{ "GET", "/varz/setting", api_route_unsupported, 0, API_WHY_MANAGER },
	{ "GET", "/migrate/result", api_route_unsupported, 0, API_WHY_MIGRATE },
	{ "GET", "/tag", api_route_unsupported, 0, API_WHY_TAG },
	{ "GET", "/tags", api_route_unsupported, 0, API_WHY_TAG },
	{ "POST", "/tag/remove", api_route_unsupported, 0, API_WHY_TAG },
	{ "POST", "/user/update_plugin_no", api_route_unsupported, 0, API_WHY_PLUGIN },
	{ "GET", "/plugins", api_route_unsupported, 0, API_WHY_PLUGIN },
	{ "*", "/plugins/*", api_route_unsupported, 0, API_WHY_PLUGIN },
	{ "POST", "/pluginconfig/*", api_route_unsupported, 0, API_WHY_PLUGIN },
	{ "*", "/plugin/*", api_route_unsupported, 0, API_WHY_PLUGIN },
	{ "GET", "/metrics/app", api_route_unsupported, 0, API_WHY_METRICS },
	{ "GET", "/metrics/cluster", api_route_unsupported, 0, API_WHY_METRICS },
	{ "GET", "/metrics/system", api_route_unsupported, 0, API_WHY_METRICS },
	{ "*", "/cluster/*", api_route_unsupported, 0, API_WHY_CLUSTER },
};

/* Does route t match (method, path)?  A * segment matches one non-empty
 * segment; a * ending the pattern matches whatever is left. */
static int
route_is(const struct api_route *t, const char *method, const char *path)
{
	const char *pattern = t->path;

	if (strcmp(t->method, "*") != 0 && strcmp(t->method, method) != 0)
		return 0;
	while (*pattern && *path) {
		if (*pattern == '*' && pattern[1] == '\0')
			return 1;
		if (*pattern == '*') {
			if (*path == '/')
				return 0;
			path += strcspn(path, "/");
			pattern++;
		} else if (*pattern++ != *path++)
			return 0;
	}
	return *path == '\0' && (*pattern == '\0' || strcmp(pattern, "*") == 0);
}

const struct api_route *
api_route_find(const char *method, const char *path)
{
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++)
		if (route_is(&api_routes[i], method, path))
			return &api_routes[i];
	return NULL;
}

int
api_route_is_open(const char *path)
{
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++)
		if (api_routes[i].open && strcmp(api_routes[i].path, path) == 0)
			return 1;
	return 0;
}
