/// The event paths a spec reads, merged into one tree, so the scanner can tell at every
/// member or array element whether anything below it is needed, in one pass.
///
/// Nodes are flat (children of a node are contiguous) and every leaf path owns a slot;
/// the slots under a node are contiguous too (`slots`), so a duplicate key can clear what
/// the earlier occurrence recorded (last one wins, also for nested objects).
struct PathTrie: Sendable {
    struct Node: Sendable {
        /// Object member name (UTF-8) or array index.
        var key: Range<Int>  // into `keyBytes`; empty for an index
        var index: Int  // -1 for a member
        var children: Range<Int>
        /// The slot recording this node's value, or -1.
        var slot: Int
        /// Slots at or below this node.
        var slots: Range<Int>
        /// A member name's length and first bytes (`signature(of:)`), so that the scanner
        /// rules out most names with one comparison; `UInt64.max` for an array index.
        var signature: UInt64 = .max
    }

    /// A name's length (at most 255) in the top byte and its first seven bytes below it.
    /// Equal names have equal signatures; names of up to seven bytes are equal exactly
    /// when their signatures are.
    static func signature(of name: UnsafeRawBufferPointer) -> UInt64 {
        var s = UInt64(min(name.count, 255)) << 56
        if name.count >= 8 {
            s |= name.loadUnaligned(as: UInt64.self).littleEndian & 0x00FF_FFFF_FFFF_FFFF
        } else {
            for k in 0..<name.count { s |= UInt64(name[k]) << UInt64(8 * k) }
        }
        return s
    }

    private(set) var nodes: [Node] = []
    private(set) var keyBytes: [UInt8] = []
    /// Number of slots (distinct leaf paths).
    private(set) var slotCount = 0

    enum Component: Hashable {
        case key(String)
        case index(Int)
    }

    /// Splits `a.b[0].c` into components.
    /// - Throws: the reason the path is malformed.
    static func components(_ path: String) throws(FeatureSpecError) -> [Component] {
        var result: [Component] = []
        let fail = { (why: String) in FeatureSpecError(path: "field", reason: "'\(path)': \(why)") }
        var rest = Substring(path)
        guard !rest.isEmpty else { throw fail("empty path") }
        while !rest.isEmpty {
            let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
            let name = rest[..<end]
            if name.isEmpty && result.isEmpty { throw fail("starts with '\(rest.first!)'") }
            if !name.isEmpty { result.append(.key(String(name))) }
            rest = rest[end...]
            while rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let i = Int(rest[rest.index(after: rest.startIndex)..<close]), i >= 0 else {
                    throw fail("expected [index] with a non-negative integer")
                }
                result.append(.index(i))
                rest = rest[rest.index(after: close)...]
            }
            if rest.first == "." {
                rest = rest.dropFirst()
                guard let next = rest.first, next != ".", next != "[" else { throw fail("empty member name") }
            } else if !rest.isEmpty {
                throw fail("unexpected '\(rest.first!)'")
            }
        }
        return result
    }

    /// Builds the trie; `slot(for:)` then gives each path's slot.
    init(paths: [[Component]]) {
        final class Builder {
            var children: [(Component, Builder)] = []
            var slot = -1
            func child(_ c: Component) -> Builder {
                if let found = children.first(where: { $0.0 == c }) { return found.1 }
                let b = Builder()
                children.append((c, b))
                return b
            }
        }
        let root = Builder()
        for path in paths {
            var node = root
            for c in path { node = node.child(c) }
            if node.slot < 0 { node.slot = 0 }  // marked; numbered below
        }
        // Slots in depth-first order, so each subtree's slots are contiguous.
        var next = 0
        var ranges: [ObjectIdentifier: Range<Int>] = [:]
        func number(_ b: Builder) {
            let start = next
            if b.slot >= 0 { b.slot = next; next += 1 }
            for (_, c) in b.children { number(c) }
            ranges[ObjectIdentifier(b)] = start..<next
        }
        number(root)
        slotCount = next
        // Flatten breadth-first: each node's children contiguous.
        var queue: [(Component?, Builder)] = [(nil, root)]
        var head = 0
        while head < queue.count {
            let (component, b) = queue[head]
            var key = 0..<0, index = -1
            switch component {
            case .key(let name)?:
                key = keyBytes.count..<(keyBytes.count + name.utf8.count)
                keyBytes += Array(name.utf8)
            case .index(let i)?: index = i
            case nil: break
            }
            let first = queue.count
            queue += b.children.map { ($0.0, $0.1) }
            var node = Node(key: key, index: index, children: first..<queue.count, slot: b.slot, slots: ranges[ObjectIdentifier(b)]!)
            if index < 0 { node.signature = keyBytes[key].withUnsafeBytes { Self.signature(of: $0) } }
            nodes.append(node)
            head += 1
        }
    }

    /// The slot of `path` (which must be one of the paths the trie was built from).
    func slot(for path: [Component]) -> Int {
        var node = 0
        for c in path {
            node = nodes[node].children.first { i in
                switch c {
                case .key(let name): nodes[i].index < 0 && Array(keyBytes[nodes[i].key]) == Array(name.utf8)
                case .index(let n): nodes[i].index == n
                }
            }!
        }
        return nodes[node].slot
    }
}
