/// glibc's `malloc_trim` (declared in malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func mallocTrim(_ pad: Int) -> Int32

/// Hands memory freed after a peak (a fetch cycle's parse, a load of history) back to the
/// system, instead of glibc keeping the peak resident until it is needed again.
public enum FreedMemory {
    public static func release() {
        #if os(Linux)
        _ = mallocTrim(0)
        #endif
    }
}
