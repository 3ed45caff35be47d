import Foundation

/// Output helpers: stdout for results, stderr for progress and errors.
enum Terminal {
    static let isInteractive = isatty(STDERR_FILENO) != 0

    /// Writes a line to stdout at once, unbuffered (scripts and tests wait for lines such
    /// as the broker's `BOOTSTRAP=`, also when stdout is a pipe or a file).
    static func out(_ line: String) {
        fflush(nil)  // anything print() buffered goes first
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func err(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Redraws a progress line on an interactive stderr; silent otherwise.
    static func progress(_ line: String) {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    static func endProgress() {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// A text progress bar: `[#########...........]  45%`.
    static func bar(_ done: Int, of total: Int, width: Int = 30) -> String {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let filled = Int(fraction * Double(width))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + String(format: "%3.0f%%", fraction * 100)
    }
}
