/// Why a Redis command or connection failed.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Could not connect (or reconnect) within the connect timeout; the reason from hiredis.
    case connect(String)
    /// The connection broke or a read timed out mid-command; it is closed and will be
    /// reopened (after the back-off) by the next command.
    case io(String)
    /// Redis answered with an error (`AUTH` refused, a wrong-typed key, …).
    case server(String)
    /// Not connected: a reconnect is waiting for its back-off to pass. `cause`: what
    /// started it (a failed connect, or a reply that timed out), as its error describes it.
    case backingOff(retryInSeconds: Double, cause: String)

    public var description: String {
        switch self {
        case .connect(let why): "redis: cannot connect: \(why)"
        case .io(let why): "redis: connection error: \(why)"
        case .server(let why): "redis: \(why)"
        case .backingOff(let seconds, let cause):
            "redis: not connected (\(cause)); next attempt in \(Int((seconds * 1_000).rounded(.up))) ms"
        }
    }
}
