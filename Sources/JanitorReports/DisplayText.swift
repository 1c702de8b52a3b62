/// Makes untrusted text (file names, reference values) safe to show on a terminal or in a
/// document: control characters, C1 controls and bidirectional overrides become visible
/// escapes (`\n`, `\t`, `\u{1B}`), so a file name cannot move the cursor, colour the
/// terminal, break a table row or reorder what the reader sees.
///
/// Backslashes are left alone, so `a\nb` may be a literal backslash too; the JSON formats
/// are the exact record.
func displayText(_ text: String) -> String {
    // Fast path over bytes: every scalar that needs an escape is a C0 byte, DEL, or starts with
    // 0xC2 (C1 controls) or 0xE2 (U+2028 to U+2069); most names have none of these.
    guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }),
        text.unicodeScalars.contains(where: needsEscape)
    else { return text }
    var result = ""
    result.reserveCapacity(text.utf8.count + 8)
    for scalar in text.unicodeScalars {
        guard needsEscape(scalar) else {
            result.unicodeScalars.append(scalar)
            continue
        }
        switch scalar {
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default: result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        }
    }
    return result
}

private func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F: true
    // Bidirectional embeddings, overrides and isolates ("Trojan Source").
    case 0x202A...0x202E, 0x2066...0x2069: true
    // Line and paragraph separators break lines in some viewers.
    case 0x2028, 0x2029: true
    default: false
    }
}
