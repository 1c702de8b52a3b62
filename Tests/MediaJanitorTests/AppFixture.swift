import Foundation
import GRDB
import Testing

/// What the app fixtures (`ForumApp`, `ChatApp`) share: a scratch directory with a media root,
/// the app's database (SQLite or PostgreSQL), and the janitor run inside it.
protocol AppFixture {
    var path: String { get }
    var db: AppDB { get }
}

extension AppFixture {
    var media: String { path + "/media" }

    /// Whether the path exists under the media root (a symlink counts, it is not followed).
    func exists(_ relative: String) -> Bool {
        var info = stat()
        return lstat(media + "/" + relative, &info) == 0
    }

    func sql(_ text: String) throws {
        try db.sql(text)
    }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Janitor.Outcome {
        try Janitor.run(arguments, in: path, environment: environment)
    }

    /// Runs a command that must succeed.
    @discardableResult
    func ok(_ arguments: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> String {
        let outcome = try run(arguments)
        #expect(outcome.status == 0, "\(arguments.joined(separator: " ")): \(outcome.stdout)\(outcome.stderr)", sourceLocation: sourceLocation)
        return outcome.stdout
    }
}
