// Preloaded into a peer gateway by `make bench`: every server it starts listens on the loopback address only.
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "object" && args[0] !== null) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  } else if (typeof args[0] === "number" || typeof args[0] === "string") {
    const port = args[0];
    const rest = args.slice(1).filter((a) => typeof a === "function" || typeof a === "number");
    const callback = rest.find((a) => typeof a === "function");
    const backlog = rest.find((a) => typeof a === "number");
    return backlog === undefined ? listen.call(this, port, "127.0.0.1", callback) : listen.call(this, port, "127.0.0.1", backlog, callback);
  }
  return listen.apply(this, args);
};
