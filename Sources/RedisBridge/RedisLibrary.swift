internal import Chiredis

/// The hiredis library the worker was built with, for `streamscore_build_info`.
public enum RedisLibrary {
    /// e.g. "0.14.1" (hiredis' header version).
    public static let version = "\(HIREDIS_MAJOR).\(HIREDIS_MINOR).\(HIREDIS_PATCH)"
}
