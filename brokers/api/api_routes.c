/* api_routes.c - wk-api's route table (wk-api(8)): method and path to the
 * handler.  The handlers live by resource: api_user.c, api_channel.c,
 * api_message.c, api_conv.c, api_stream.c.
 */
#include <string.h>
#include "api.h"

static const struct api_route api_routes[] = {
	{ "GET", "/health", route_health },
	{ "GET", "/route", route_route },
	{ "POST", "/route/batch", route_route_batch },
	{ "POST", "/user/token", route_user_token },
	{ "POST", "/user/device_quit", route_user_device_quit },
	{ "POST", "/user/onlinestatus", route_user_onlinestatus },
	{ "POST", "/user/systemuids_add", route_sysuids_add },
	{ "POST", "/user/systemuids_remove", route_sysuids_remove },
	{ "GET", "/user/systemuids", route_sysuids },
	{ "POST", "/channel", route_channel },
	{ "POST", "/channel/info", route_channel_info },
	{ "POST", "/channel/delete", route_channel_delete },
	{ "POST", "/channel/subscriber_add", route_subscriber_add },
	{ "POST", "/channel/subscriber_remove", route_subscriber_remove },
	{ "POST", "/channel/subscriber_remove_all", route_subscriber_remove_all },
	{ "POST", "/channel/blacklist_add", route_list },
	{ "POST", "/channel/blacklist_set", route_list },
	{ "POST", "/channel/blacklist_remove", route_list },
	{ "POST", "/channel/blacklist_remove_all", route_list },
	{ "POST", "/channel/whitelist_add", route_list },
	{ "POST", "/channel/whitelist_set", route_list },
	{ "POST", "/channel/whitelist_remove", route_list },
	{ "POST", "/channel/whitelist_remove_all", route_list },
	{ "GET", "/channel/whitelist", route_whitelist_get },
	{ "POST", "/message/send", route_message_send },
	{ "POST", "/message/sendbatch", route_message_sendbatch },
	{ "POST", "/messages", route_messages },
	{ "POST", "/message", route_message },
	{ "GET", "/message/byclientmsgno", route_message_byclientmsgno },
	{ "POST", "/channel/messagesync", route_channel_messagesync },
	{ "GET", "/channel/max_message_seq", route_max_message_seq },
	{ "GET", "/channel/last_message", route_last_message },
	{ "POST", "/message/event", route_message_event },
	{ "POST", "/message/eventsync", route_message_eventsync },
	{ "POST", "/conversation/sync", route_conversation_sync },
	{ "POST", "/conversation/syncByChannels", route_conversation_sync_by_channels },
	{ "POST", "/conversation/channels", route_conversation_channels },
	{ "POST", "/conversations/setUnread", route_conversations_set_unread },
	{ "POST", "/conversations/clearUnread", route_conversations_clear_unread },
	{ "POST", "/conversations/delete", route_conversations_delete },
	{ "POST", "/message/sync", route_message_sync },
	{ "POST", "/message/syncack", route_message_syncack },
};

const struct api_route *
api_route_find(const char *method, const char *path)
{
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++)
		if (strcmp(api_routes[i].path, path) == 0 && strcmp(api_routes[i].method, method) == 0)
			return &api_routes[i];
	return NULL;
}
