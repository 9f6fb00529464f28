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
import { MessageContentType } from "./const.js";
import { Guid } from "./guid.js";
import WKSDK from "./index.js";
import { MediaMessageContent, Message } from "./model.js";
import { RecvackPacket, RecvPacket, SendackPacket, SendPacket, Setting } from "./proto.js";
import { MessageTask, TaskStatus } from "./task.js";
import { Md5 } from "./deps/md5.js";
import { SecurityManager } from "./security.js";
var ChatManager = /** @class */ (function () {
    function ChatManager() {
        var _this = this;
        this.cmdListeners = new Array(); // 命令类消息监听
        this.listeners = new Array(); // 收取消息监听
        this.sendingQueues = new Map(); // 发送中的消息
        this.sendStatusListeners = new Array(); // 消息状态监听
        this.clientSeq = 0;
        if (WKSDK.shared().taskManager) {
            WKSDK.shared().taskManager.addListener(function (task) {
                if (task.status === TaskStatus.success) {
                    if (task instanceof MessageTask) {
                        var messageTask = task;
                        var sendPacket = _this.sendingQueues.get(messageTask.message.clientSeq);
                        if (sendPacket) {
                            sendPacket.payload = messageTask.message.content.encode(); // content需要重新编码
                            WKSDK.shared().connectManager.sendPacket(sendPacket);
                        }
                    }
                }
            });
        }
    }
    ChatManager.shared = function () {
        if (!this.instance) {
            this.instance = new ChatManager();
        }
        return this.instance;
    };
    ChatManager.prototype.onPacket = function (packet) {
        return __awaiter(this, void 0, void 0, function () {
            var recvPacket, actMsgKey, actMsgKeyMD5, message, sendack;
            return __generator(this, function (_a) {
                if (packet instanceof RecvPacket) {
                    recvPacket = packet;
                    actMsgKey = SecurityManager.shared().encryption(recvPacket.veritifyString);
                    actMsgKeyMD5 = Md5.init(actMsgKey);
                    if (actMsgKeyMD5 !== recvPacket.msgKey) {
                        console.log("\u975E\u6CD5\u7684\u6D88\u606F\uFF0C\u671F\u671BmsgKey:" + recvPacket.msgKey + " \u5B9E\u9645msgKey:" + actMsgKeyMD5 + " \u5FFD\u7565\u6B64\u6D88\u606F\uFF01\uFF01");
                        return [2 /*return*/];
                    }
                    recvPacket.payload = SecurityManager.shared().decryption(recvPacket.payload);
                    message = new Message(recvPacket);
                    this.sendRecvackPacket(recvPacket);
                    if (message.contentType === MessageContentType.cmd) { // 命令类消息分流处理
                        this.notifyCMDListeners(message);
                        return [2 /*return*/];
                    }
                    this.notifyMessageListeners(message);
                    WKSDK.shared().channelManager.notifySubscribeIfNeed(message); // 通知指定的订阅者
                }
                else if (packet instanceof SendackPacket) {
                    sendack = packet;
                    this.sendingQueues.delete(sendack.clientSeq);
                    // 发送消息回执
                    this.notifyMessageStatusListeners(sendack);
                }
                return [2 /*return*/];
            });
        });
    };
    ChatManager.prototype.syncMessages = function (channel, opts) {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                if (!WKSDK.shared().config.provider.syncMessagesCallback) {
                    throw new Error("没有设置WKSDK.shared().config.provider.syncMessagesCallback");
                }
                return [2 /*return*/, WKSDK.shared().config.provider.syncMessagesCallback(channel, opts)];
            });
        });
    };
    ChatManager.prototype.syncMessageExtras = function (channel, extraVersion) {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                if (!WKSDK.shared().config.provider.syncMessageExtraCallback) {
                    throw new Error("没有设置WKSDK.shared().config.provider.syncMessageExtraCallback");
                }
                return [2 /*return*/, WKSDK.shared().config.provider.syncMessageExtraCallback(channel, extraVersion, 100)];
            });
        });
    };
    ChatManager.prototype.sendRecvackPacket = function (recvPacket) {
        var packet = new RecvackPacket();
        packet.noPersist = recvPacket.noPersist;
        packet.syncOnce = recvPacket.syncOnce;
        packet.reddot = recvPacket.reddot;
        packet.messageID = recvPacket.messageID;
        packet.messageSeq = recvPacket.messageSeq;
        WKSDK.shared().connectManager.sendPacket(packet);
    };
    /**
     *  发送消息
     * @param content  消息内容
     * @param channel 频道对象
     * @param setting  发送设置
     * @returns 完整消息对象
     */
    ChatManager.prototype.send = function (content, channel, setting) {
        return __awaiter(this, void 0, void 0, function () {
            var packet, opts, message, task;
            return __generator(this, function (_a) {
                packet = this.getSendPacket(content, channel, setting);
                opts = new Setting();
                if (setting) {
                    opts = setting;
                }
                this.sendingQueues.set(packet.clientSeq, packet);
                message = Message.fromSendPacket(packet, content);
                if (content instanceof MediaMessageContent) {
                    task = WKSDK.shared().config.provider.messageUploadTask(message);
                    if (task) {
                        WKSDK.shared().taskManager.addTask(task);
                    }
                }
                else {
                    WKSDK.shared().connectManager.sendPacket(packet);
                }
                this.notifyMessageListeners(message);
                return [2 /*return*/, message];
            });
        });
    };
    ChatManager.prototype.getSendPacket = function (content, channel, setting) {
        if (setting === void 0) { setting = new Setting(); }
        var packet = new SendPacket();
        packet.setting = setting;
        packet.reddot = true;
        packet.clientMsgNo = Guid.create().toString().replace(/-/gi, "") + "3";
        packet.streamNo = setting.streamNo;
        packet.clientSeq = this.getClientSeq();
        packet.fromUID = WKSDK.shared().config.uid || '';
        packet.channelID = channel.channelID;
        packet.channelType = channel.channelType;
        packet.payload = content.encode();
        return packet;
    };
    ChatManager.prototype.getClientSeq = function () {
        return ++this.clientSeq;
    };
    // 通知命令消息监听者
    ChatManager.prototype.notifyCMDListeners = function (message) {
        if (this.cmdListeners) {
            this.cmdListeners.forEach(function (listener) {
                if (listener) {
                    listener(message);
                }
            });
        }
    };
    // 添加命令类消息监听
    ChatManager.prototype.addCMDListener = function (listener) {
        this.cmdListeners.push(listener);
    };
    ChatManager.prototype.removeCMDListener = function (listener) {
        var len = this.cmdListeners.length;
        for (var i = 0; i < len; i++) {
            if (listener === this.cmdListeners[i]) {
                this.cmdListeners.splice(i, 1);
                return;
            }
        }
    };
    // 添加消息监听
    ChatManager.prototype.addMessageListener = function (listener) {
        this.listeners.push(listener);
    };
    // 移除消息监听
    ChatManager.prototype.removeMessageListener = function (listener) {
        var len = this.listeners.length;
        for (var i = 0; i < len; i++) {
            if (listener === this.listeners[i]) {
                this.listeners.splice(i, 1);
                return;
            }
        }
    };
    // 通知消息监听者
    ChatManager.prototype.notifyMessageListeners = function (message) {
        if (this.listeners) {
            this.listeners.forEach(function (listener) {
                if (listener) {
                    listener(message);
                }
            });
        }
    };
    // 通知消息状态改变监听者
    ChatManager.prototype.notifyMessageStatusListeners = function (sendackPacket) {
        if (this.sendStatusListeners) {
            this.sendStatusListeners.forEach(function (listener) {
                if (listener) {
                    listener(sendackPacket);
                }
            });
        }
    };
    // 消息状态改变监听
    ChatManager.prototype.addMessageStatusListener = function (listener) {
        this.sendStatusListeners.push(listener);
    };
    ChatManager.prototype.removeMessageStatusListener = function (listener) {
        var len = this.sendStatusListeners.length;
        for (var i = 0; i < len; i++) {
            if (listener === this.sendStatusListeners[i]) {
                this.sendStatusListeners.splice(i, 1);
                return;
            }
        }
    };
    // 将发送消息队列里的消息flush出去
    ChatManager.prototype.flushSendingQueue = function () {
        if (this.sendingQueues.size <= 0) {
            return;
        }
        console.log("flush \u53D1\u9001\u961F\u5217\u5185\u7684\u6D88\u606F\u3002\u6570\u91CF" + this.sendingQueues.size);
        var clientSeqArray = new Array();
        this.sendingQueues.forEach(function (value, key) {
            clientSeqArray.push(key);
        });
        clientSeqArray = clientSeqArray.sort();
        for (var _i = 0, clientSeqArray_1 = clientSeqArray; _i < clientSeqArray_1.length; _i++) {
            var clientSeq = clientSeqArray_1[_i];
            var sendPacket = this.sendingQueues.get(clientSeq);
            if (sendPacket) {
                console.log("重试消息---->", sendPacket);
                WKSDK.shared().connectManager.sendPacket(sendPacket);
            }
        }
    };
    ChatManager.prototype.deleteMessageFromSendingQueue = function (clientSeq) {
        this.sendingQueues.delete(clientSeq);
    };
    return ChatManager;
}());
export { ChatManager };
