var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g;
    return g = { next: verb(0), "throw": verb(1), "return": verb(2) }, typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (_) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
import { Channel, ChannelTypeData, ListenerState, SubscribeAction, SubscribeContext, SubscribeOptions } from "./model.js";
import WKSDK from "./index.js";
import { SubPacket } from "./proto.js";
var ChannelManager = /** @class */ (function () {
    function ChannelManager() {
        // 频道基础信息map
        this.channelInfocacheMap = {};
        // 请求队列
        this.requestQueueMap = new Map();
        this.listeners = new Array(); // 监听改变
        // 频道成员缓存信息map
        this.subscribeCacheMap = new Map();
        // 成员请求队列
        this.requestSubscribeQueueMap = new Map();
        // 成员改变监听
        this.subscriberChangeListeners = new Array();
        // 频道删除监听
        this.deleteChannelInfoListeners = new Array();
        this.subscriberContexts = new Array(); // 订阅者上下文集合
        this.subscriberContextTick = 0; // 订阅者上下文tick
    }
    ChannelManager.shared = function () {
        if (!this.instance) {
            this.instance = new ChannelManager();
            // this.instance.subscriberContextTick = window.setInterval(() => {
            //     this.instance.executeSubscribeContext();
            // }, 2000)
        }
        return this.instance;
    };
    // 提取频道信息
    ChannelManager.prototype.fetchChannelInfo = function (channel) {
        return __awaiter(this, void 0, void 0, function () {
            var channelKey, has, channelInfoModel;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        channelKey = channel.getChannelKey();
                        has = this.requestQueueMap.get(channelKey);
                        if (has) {
                            return [2 /*return*/];
                        }
                        _a.label = 1;
                    case 1:
                        _a.trys.push([1, , 4, 5]);
                        this.requestQueueMap.set(channelKey, true);
                        if (!(WKSDK.shared().config.provider.channelInfoCallback != null)) return [3 /*break*/, 3];
                        return [4 /*yield*/, WKSDK.shared().config.provider.channelInfoCallback(channel)];
                    case 2:
                        channelInfoModel = _a.sent();
                        this.channelInfocacheMap[channelKey] = channelInfoModel;
                        if (channelInfoModel) {
                            this.notifyListeners(channelInfoModel);
                        }
                        _a.label = 3;
                    case 3: return [3 /*break*/, 5];
                    case 4:
                        // 移除请求任务
                        this.requestQueueMap.delete(channelKey);
                        return [7 /*endfinally*/];
                    case 5: return [2 /*return*/];
                }
            });
        });
    };
    // 同步订阅者
    ChannelManager.prototype.syncSubscribes = function (channel) {
        return __awaiter(this, void 0, void 0, function () {
            var channelKey, has, cacheSubscribers, version, lastMember, subscribers, _i, subscribers_1, subscriber, update, j, cacheSubscriber;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        channelKey = channel.getChannelKey();
                        has = this.requestSubscribeQueueMap.get(channelKey);
                        if (has) {
                            return [2 /*return*/];
                        }
                        _a.label = 1;
                    case 1:
                        _a.trys.push([1, , 3, 4]);
                        this.requestSubscribeQueueMap.set(channelKey, true);
                        cacheSubscribers = this.subscribeCacheMap.get(channelKey);
                        version = 0;
                        if (cacheSubscribers && cacheSubscribers.length > 0) {
                            lastMember = cacheSubscribers[cacheSubscribers.length - 1];
                            version = lastMember.version;
                        }
                        else {
                            cacheSubscribers = new Array();
                        }
                        return [4 /*yield*/, WKSDK.shared().config.provider.syncSubscribersCallback(channel, version || 0)];
                    case 2:
                        subscribers = _a.sent();
                        if (subscribers && subscribers.length > 0) {
                            for (_i = 0, subscribers_1 = subscribers; _i < subscribers_1.length; _i++) {
                                subscriber = subscribers_1[_i];
                                update = false;
                                for (j = 0; j < cacheSubscribers.length; j++) {
                                    cacheSubscriber = cacheSubscribers[j];
                                    if (subscriber.uid === cacheSubscriber.uid) {
                                        update = true;
                                        cacheSubscribers[j] = subscriber;
                                        break;
                                    }
                                }
                                if (!update) {
                                    cacheSubscribers.push(subscriber);
                                }
                            }
                        }
                        this.subscribeCacheMap.set(channelKey, cacheSubscribers);
                        // 通知监听器
                        this.notifySubscribeChangeListeners(channel);
                        return [3 /*break*/, 4];
                    case 3:
                        this.requestSubscribeQueueMap.delete(channelKey);
                        return [7 /*endfinally*/];
                    case 4: return [2 /*return*/];
                }
            });
        });
    };
    ChannelManager.prototype.getChannelInfo = function (channel) {
        return this.channelInfocacheMap[channel.getChannelKey()];
    };
    // 设置频道缓存
    ChannelManager.prototype.setChannleInfoForCache = function (channelInfo) {
        this.channelInfocacheMap[channelInfo.channel.getChannelKey()] = channelInfo;
    };
    // 删除频道信息
    ChannelManager.prototype.deleteChannelInfo = function (channel) {
        var channelInfo = this.channelInfocacheMap[channel.getChannelKey()];
        delete this.channelInfocacheMap[channel.getChannelKey()];
        return channelInfo;
    };
    ChannelManager.prototype.getSubscribes = function (channel) {
        var subscribers = this.subscribeCacheMap.get(channel.getChannelKey());
        var newSubscribers = new Array();
        if (subscribers) {
            for (var _i = 0, subscribers_2 = subscribers; _i < subscribers_2.length; _i++) {
                var subscriber = subscribers_2[_i];
                if (!subscriber.isDeleted) {
                    newSubscribers.push(subscriber);
                }
            }
        }
        return newSubscribers;
    };
    // 获取我在频道内的信息
    ChannelManager.prototype.getSubscribeOfMe = function (channel) {
        var subscribers = this.subscribeCacheMap.get(channel.getChannelKey());
        if (subscribers) {
            for (var _i = 0, subscribers_3 = subscribers; _i < subscribers_3.length; _i++) {
                var subscriber = subscribers_3[_i];
                if (!subscriber.isDeleted && subscriber.uid === WKSDK.shared().config.uid) {
                    return subscriber;
                }
            }
        }
        return null;
    };
    ChannelManager.prototype.addSubscriberChangeListener = function (listener) {
        this.subscriberChangeListeners.push(listener);
    };
    ChannelManager.prototype.removeSubscriberChangeListener = function (listener) {
        var len = this.subscriberChangeListeners.length;
        for (var i = 0; i < len; i++) {
            if (listener === this.subscriberChangeListeners[i]) {
                this.subscriberChangeListeners.splice(i, 1);
                return;
            }
        }
    };
    // 添加删除频道信息监听
    ChannelManager.prototype.addDeleteChannelInfoListener = function (listener) {
        this.deleteChannelInfoListeners.push(listener);
    };
    // 移除删除频道信息监听
    ChannelManager.prototype.removeDeleteChannelInfoListener = function (listener) {
        var len = this.deleteChannelInfoListeners.length;
        for (var i = 0; i < len; i++) {
            if (listener === this.deleteChannelInfoListeners[i]) {
                this.deleteChannelInfoListeners.splice(i, 1);
                return;
            }
        }
    };
    ChannelManager.prototype.addListener = function (listener) {
        this.listeners.push(listener);
    };
    ChannelManager.prototype.removeListener = function (listener) {
        var len = this.listeners.length;
        for (var i = 0; i < len; i++) {
            if (listener === this.listeners[i]) {
                this.listeners.splice(i, 1);
                return;
            }
        }
    };
    // 通知成员监听变化
    ChannelManager.prototype.notifySubscribeChangeListeners = function (channel) {
        if (this.subscriberChangeListeners) {
            this.subscriberChangeListeners.forEach(function (callback) {
                callback(channel);
            });
        }
    };
    ChannelManager.prototype.notifyListeners = function (channelInfoModel) {
        if (this.listeners) {
            this.listeners.forEach(function (callback) {
                callback(channelInfoModel);
            });
        }
    };
    ChannelManager.prototype.notifySubscribeIfNeed = function (msg) {
        var subscribeContext = this.getSubscribeContext(msg.channel);
        if (subscribeContext && subscribeContext.listenerStates) {
            for (var _i = 0, _a = subscribeContext.listenerStates; _i < _a.length; _i++) {
                var listenerState = _a[_i];
                if (listenerState.listener && listenerState.action === SubscribeAction.subscribe) {
                    listenerState.listener(msg);
                }
            }
        }
    };
    ChannelManager.prototype.onSubscribe = function (ch, listener) {
        var opts = [];
        for (var _i = 2; _i < arguments.length; _i++) {
            opts[_i - 2] = arguments[_i];
        }
        // 参数设置
        var subscribeOpts = new SubscribeOptions();
        if (opts && opts.length > 0) {
            for (var _a = 0, opts_1 = opts; _a < opts_1.length; _a++) {
                var opt = opts_1[_a];
                opt(subscribeOpts);
            }
        }
        // 频道
        var channel;
        var channelData;
        var channelType = ChannelTypeData;
        if (ch instanceof Channel) {
            channelType = ch.channelType;
            channelData = this.parseChannelURL(ch.channelID);
        }
        else {
            channelData = this.parseChannelURL(ch);
        }
        channel = new Channel(channelData.channelID, channelType);
        subscribeOpts.param = channelData.paramMap;
        // 设置上下文
        var subscriberContext = this.getSubscribeContext(channel);
        if (!subscriberContext) {
            subscriberContext = new SubscribeContext(channel);
            this.subscriberContexts.push(subscriberContext);
        }
        var exist = false;
        if (subscriberContext.listenerStates.length > 0) {
            for (var _b = 0, _c = subscriberContext.listenerStates; _b < _c.length; _b++) {
                var listenerState = _c[_b];
                if (listenerState.action === SubscribeAction.subscribe) {
                    listenerState.handleOk = false;
                    listenerState.listener = listener;
                    listenerState.options = subscribeOpts;
                    exist = true;
                    break;
                }
            }
        }
        if (!exist) {
            subscriberContext.listenerStates.push(new ListenerState(SubscribeAction.subscribe, listener, subscribeOpts));
        }
        console.log("onSubscribe-->", subscriberContext.listenerStates.length);
        this.executeSubscribeContext();
    };
    ChannelManager.prototype.parseChannelURL = function (channelUrl) {
        var data = channelUrl.split("?");
        if (data.length > 1) {
            var query = data[1];
            var paramMap = new Map();
            var querys = query.split("&");
            for (var _i = 0, querys_1 = querys; _i < querys_1.length; _i++) {
                var q = querys_1[_i];
                var queryData = q.split("=");
                if (queryData.length > 1) {
                    paramMap.set(queryData[0], queryData[1]);
                }
            }
            return { channelID: data[0], paramMap: paramMap };
        }
        else {
            return { channelID: channelUrl, paramMap: new Map() };
        }
    };
    ChannelManager.prototype.onUnsubscribe = function (ch, listener) {
        // 频道
        var channel;
        var channelData;
        var channelType = ChannelTypeData;
        if (ch instanceof Channel) {
            channelType = ch.channelType;
            channelData = this.parseChannelURL(ch.channelID);
        }
        else {
            channelData = this.parseChannelURL(ch);
        }
        channel = new Channel(channelData.channelID, channelType);
        var subscriberContext = this.getSubscribeContext(channel);
        if (!subscriberContext) {
            subscriberContext = new SubscribeContext(channel);
            this.subscriberContexts.push(subscriberContext);
        }
        var exist = false;
        if (subscriberContext.listenerStates.length > 0) {
            for (var _i = 0, _a = subscriberContext.listenerStates; _i < _a.length; _i++) {
                var listenerState = _a[_i];
                if (listenerState.action === SubscribeAction.unsubscribe) {
                    listenerState.handleOk = false;
                    listenerState.listener = listener;
                    exist = true;
                    break;
                }
            }
        }
        if (!exist) {
            subscriberContext.listenerStates.push(new ListenerState(SubscribeAction.unsubscribe, listener));
        }
        this.executeSubscribeContext();
    };
    // 重新订阅
    ChannelManager.prototype.reSubscribe = function () {
        for (var _i = 0, _a = this.subscriberContexts; _i < _a.length; _i++) {
            var subscriberContext = _a[_i];
            for (var _b = 0, _c = subscriberContext.listenerStates; _b < _c.length; _b++) {
                var listenerState = _c[_b];
                listenerState.handleOk = false;
                listenerState.sending = false;
            }
        }
        this.executeSubscribeContext();
    };
    ChannelManager.prototype.handleSuback = function (ack) {
        for (var _i = 0, _a = this.subscriberContexts; _i < _a.length; _i++) {
            var subscriberContext = _a[_i];
            if (ack.channelID === subscriberContext.channel.channelID && ack.channelType === subscriberContext.channel.channelType) {
                if (ack.action === SubscribeAction.subscribe) {
                    if (subscriberContext.listenerStates && subscriberContext.listenerStates.length > 0) {
                        for (var _b = 0, _c = subscriberContext.listenerStates; _b < _c.length; _b++) {
                            var listenerState = _c[_b];
                            if (listenerState.handleOk) {
                                continue;
                            }
                            listenerState.handleOk = true;
                            if (listenerState.listener && listenerState.action === SubscribeAction.subscribe) {
                                var subscribeListener = listenerState.listener;
                                subscribeListener(undefined, ack.reasonCode);
                            }
                        }
                    }
                }
                else {
                    if (subscriberContext.listenerStates && subscriberContext.listenerStates.length > 0) {
                        for (var _d = 0, _e = subscriberContext.listenerStates; _d < _e.length; _d++) {
                            var listenerState = _e[_d];
                            if (listenerState.handleOk) {
                                continue;
                            }
                            listenerState.handleOk = true;
                            if (listenerState.listener && listenerState.action === SubscribeAction.unsubscribe) {
                                var unsubscribeListener = listenerState.listener;
                                unsubscribeListener(ack.reasonCode);
                            }
                        }
                    }
                }
            }
        }
        if (ack.action === SubscribeAction.unsubscribe) {
            for (var i = 0; i < this.subscriberContexts.length; i++) {
                var subscriberContext = this.subscriberContexts[i];
                if (subscriberContext.channel.channelID === ack.channelID && subscriberContext.channel.channelType === ack.channelType) {
                    this.subscriberContexts.splice(i, 1);
                    continue;
                }
            }
        }
    };
    ChannelManager.prototype.getSubscribeContext = function (channel) {
        for (var _i = 0, _a = this.subscriberContexts; _i < _a.length; _i++) {
            var subscriberContext = _a[_i];
            if (subscriberContext.channel.channelID === channel.channelID && subscriberContext.channel.channelType === channel.channelType) {
                return subscriberContext;
            }
        }
        return undefined;
    };
    ChannelManager.prototype.executeSubscribeContext = function () {
        for (var _i = 0, _a = this.subscriberContexts; _i < _a.length; _i++) {
            var subscriberContext = _a[_i];
            if (subscriberContext && subscriberContext.listenerStates.length > 0) {
                for (var _b = 0, _c = subscriberContext.listenerStates; _b < _c.length; _b++) {
                    var listenerState = _c[_b];
                    if (listenerState.handleOk || listenerState.sending) {
                        continue;
                    }
                    listenerState.sending = true;
                    this.sendSubscribe(subscriberContext.channel, listenerState.action, listenerState.options);
                }
            }
        }
    };
    ChannelManager.prototype.sendSubscribe = function (channel, action, opts) {
        console.log("sendSubscribe---->", action);
        var s = new SubPacket();
        s.channelID = channel.channelID;
        s.channelType = channel.channelType;
        s.action = action;
        if (opts === null || opts === void 0 ? void 0 : opts.param) {
            s.param = JSON.stringify(Object.fromEntries(opts === null || opts === void 0 ? void 0 : opts.param));
        }
        WKSDK.shared().connectManager.sendPacket(s);
    };
    return ChannelManager;
}());
export { ChannelManager };
