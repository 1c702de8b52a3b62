import Foundation
import JanitorCore

extension ConfigFiles {
    /// Reads config files from the local file system; include globs match relative paths
    /// below the config's directory.
    public static let disk = ConfigFiles(
        read: { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CocoaError(.fileReadInapplicableStringEncoding, userInfo: [NSFilePathErrorKey: path])
            }
            return text
        },
        glob: { directory, pattern in
            if pattern.hasPrefix("/") {
                return FileManager.default.fileExists(atPath: pattern) ? [pattern] : []
            }
            guard let glob = try? Glob(pattern) else { return [] }
            // Walk only below the pattern's literal directory.
            let start = glob.literalDirectory.map { directory + "/" + $0 } ?? directory
            // A symlinked rules directory is fine for config files (the media walk never follows links).
            let resolved = URL(fileURLWithPath: start).resolvingSymlinksInPath().path
            guard let enumerator = FileManager.default.enumerator(atPath: resolved) else { return [] }
            var matches: [String] = []
            let offset = glob.literalDirectory.map { $0 + "/" } ?? ""
            while let relative = enumerator.nextObject() as? String {
                let path = offset + relative
                if glob.matches(path) { matches.append(directory + "/" + path) }
            }
            return matches.sorted()
        })
}
