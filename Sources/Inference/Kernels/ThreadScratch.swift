#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Scratch memory kept per thread, for kernels whose working set is too large for the
/// stack: `withUnsafeTemporaryAllocation` stays on the stack only up to 1 KiB on Linux and
/// calls `malloc` above that (measured by the allocation tests). Each thread's block is
/// allocated on its first use, grows when a larger one is asked for, and is freed when the
/// thread exits, so scoring allocates nothing per call after warm-up and concurrent calls
/// on different threads never share memory.
enum ThreadScratch {
    /// Bytes before the floats: the block's capacity in floats (keeps 64-byte alignment).
    private static let header = 64

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { block in free(block) }
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()

    /// At least `count` floats of this thread's scratch (contents unspecified), valid until
    /// this thread's next call.
    static func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let block = pthread_getspecific(key), block.load(as: Int.self) >= count {
            return (block + header).assumingMemoryBound(to: Float.self)
        }
        if let old = pthread_getspecific(key) { free(old) }
        var block: UnsafeMutableRawPointer?
        let status = posix_memalign(&block, 64, header + count * MemoryLayout<Float>.stride)
        precondition(status == 0 && block != nil, "out of memory for \(count) floats of scratch")
        block!.storeBytes(of: count, as: Int.self)
        pthread_setspecific(key, block)
        return (block! + header).bindMemory(to: Float.self, capacity: count)
    }
}
