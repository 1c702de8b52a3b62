/// Columns aligned with spaces for terminal output.
///
/// Widths count characters (grapheme clusters), which matches the terminal for Latin, Greek,
/// Cyrillic and most other scripts; East Asian wide characters take two cells and will push
/// their row to the right.
struct TextTable {
    /// How a column's cells line up.
    enum Alignment {
        case left, right
    }

    /// One alignment per column.
    var alignments: [Alignment]
    /// Column titles, or nil for a table without a header row.
    var header: [String]?
    /// The cells, one array per row, as many as there are columns.
    var rows: [[String]] = []

    /// Creates an empty table.
    init(_ alignments: [Alignment], header: [String]? = nil) {
        self.alignments = alignments
        self.header = header
    }

    /// Adds a row.
    mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The table's lines, each indented and with trailing spaces removed. The header row is
    /// shown dim when `style` has colour.
    func lines(indent: Int = 2, style: TerminalStyle) -> [String] {
        var widths = [Int](repeating: 0, count: alignments.count)
        for row in (header.map { [$0] } ?? []) + rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ row: [String]) -> String {
            var text = String(repeating: " ", count: indent)
            for (column, cell) in row.enumerated() {
                if column > 0 { text += "  " }
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                text += alignments[column] == .left ? cell + padding : padding + cell
            }
            while text.last == " " { text.removeLast() }
            return text
        }
        var result: [String] = []
        if let header {
            let text = line(header)
            let leading = String(text.prefix(indent))
            result.append(leading + style.dim(String(text.dropFirst(indent))))
        }
        result += rows.map(line)
        return result
    }
}

/// ANSI styling that becomes a no-op when colour is off.
struct TerminalStyle {
    /// Whether to emit escape sequences at all.
    var enabled: Bool

    /// Bold text, for section titles.
    func bold(_ text: String) -> String { wrap(text, "1") }
    /// Dim text, for table headers and secondary information.
    func dim(_ text: String) -> String { wrap(text, "2") }
    /// Red text, for errors and missing files.
    func red(_ text: String) -> String { wrap(text, "31") }
    /// Yellow text, for warnings and orphans.
    func yellow(_ text: String) -> String { wrap(text, "33") }
    /// Green text, for a passing check.
    func green(_ text: String) -> String { wrap(text, "32") }
    /// Magenta text, for unclassified files.
    func magenta(_ text: String) -> String { wrap(text, "35") }
    /// Cyan text, for notes.
    func cyan(_ text: String) -> String { wrap(text, "36") }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
