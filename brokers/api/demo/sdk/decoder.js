import BigNumber from "./deps/bignumber.js";
var Decoder = /** @class */ (function () {
    function Decoder(data) {
        this.offset = 0;
        this.data = data;
    }
    Decoder.prototype.readByte = function () {
        var d = this.data[this.offset];
        this.offset++;
        return d;
    };
    Decoder.prototype.readNum = function (b) {
        var data = this.data.slice(this.offset, this.offset + b);
        this.offset += b;
        var n = new BigNumber(0);
        for (var i = 0; i < data.length; i++) {
            var d = new BigNumber(2).pow(new BigNumber((data.length - i - 1) * 8));
            n = n.plus(new BigNumber(data[i]).multipliedBy(d));
        }
        return n;
    };
    // 读取64bit的int数据（js没有int64的类型，所以这里只能用字符串接受）
    Decoder.prototype.readInt64 = function () {
        return this.readNum(8);
    };
    Decoder.prototype.readInt16 = function () {
        return Number(this.readNum(2));
    };
    Decoder.prototype.readInt32 = function () {
        return Number(this.readNum(4));
    };
    Decoder.prototype.readString = function () {
        var len = this.readInt16();
        if (len <= 0) {
            return "";
        }
        var strUint8Array = this.data.slice(this.offset, this.offset + len);
        this.offset += len;
        return this.uintToString(Array.from(strUint8Array));
    };
    // 读取剩余的字节
    Decoder.prototype.readRemaining = function () {
        var data = this.data.slice(this.offset);
        this.offset = this.data.length;
        return data;
    };
    Decoder.prototype.uintToString = function (array) {
        var encodedString = String.fromCharCode.apply(null, array);
        var decodedString = decodeURIComponent(escape(encodedString));
        return decodedString;
    };
    Decoder.prototype.readVariableLength = function () {
        var multiplier = 0;
        var rLength = Number(0);
        while (multiplier < 27) {
            var b = this.readByte();
            /* tslint:disable */
            rLength = rLength | ((b & 127) << multiplier);
            if ((b & 128) == 0) {
                break;
            }
            multiplier += 7;
        }
        return rLength;
    };
    return Decoder;
}());
export default Decoder;
