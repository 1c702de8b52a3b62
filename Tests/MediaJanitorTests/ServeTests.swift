import Foundation
import Crypto
import GRDB
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("serve: the sidecar end to end")
struct ServeTests {
    static let token = "s3cret-token"

    func forum(_ backend: AppBackend = .sqlite) throws -> ForumApp {
        let app = try ForumApp(quarantine: "0", extraConfig: "serve: {token: \"\(Self.token)\", max_body: 4KB}", backend: backend)
        try app.sql("INSERT INTO accounts_user (id, avatar) VALUES (1, 'avatars/new.jpg'), (2, 'avatars/b.jpg')")
        for name in ["avatars/new.jpg", "avatars/old.jpg", "avatars/b.jpg", "avatars/thumbs/old_64.jpg"] { app.file(name) }
        return app
    }

    var auth: [String: String] { ["Authorization": "Bearer \(Self.token)", "Content-Type": "application/json"] }

    @Test("events over HTTP and through the database triggers both lead to removal; stats and metrics follow; SIGTERM exits 0", arguments: AppBackend.allCases)
    func endToEnd(backend: AppBackend) async throws {
        let app = try forum(backend)
        try app.ok(["hooks", "install"])
        let serve = try ServeProcess(in: app.path)
        // 1. Over HTTP: a replaced avatar goes, with its thumbnail.
        let event = #"{"id": "evt-1", "table": "accounts_user", "column": "avatar", "op": "replace", "key": "1", "old": "avatars/old.jpg", "new": "avatars/new.jpg"}"#
        let posted = try await serve.request("POST", "/v1/events", body: Data(event.utf8), headers: auth)
        #expect(posted.status == 202, "\(posted.body)")
        #expect((try posted.json()["events"] as? [[String: Any]])?.first?["decision"] as? String == "enqueued")
        #expect(await ServeProcess.eventually { !app.exists("avatars/old.jpg") && !app.exists("avatars/thumbs/old_64.jpg") })
        #expect(app.exists("avatars/new.jpg"))
        // 2. Through the triggers: the app clears user 2's avatar in its own transaction.
        try app.sql("UPDATE accounts_user SET avatar = NULL WHERE id = 2")
        #expect(await ServeProcess.eventually { !app.exists("avatars/b.jpg") }, "\(serve.stderr)")
        // 3. Stats and metrics reflect it.
        let settled = try await ServeProcess.eventually {
            let stats = try await serve.request("GET", "/v1/queue/stats", headers: auth)
            return (try stats.json()["done"] as? Int) == 3
        }
        #expect(settled)
        let metrics = try await serve.request("GET", "/metrics", headers: auth)
        #expect(metrics.body.contains("janitor_removals_total 3"), "\(metrics.body)")
        #expect(metrics.body.contains(#"janitor_events_total{channel="http",decision="enqueued"} 1"#))
        #expect(metrics.body.contains(#"janitor_events_total{channel="outbox",decision="enqueued"} 1"#))
        let usage = try await serve.request("GET", "/v1/usage", headers: auth).json()
        let avatars = (usage["classes"] as? [[String: Any]])?.first { $0["name"] as? String == "avatars" }
        #expect(avatars?["files"] as? Int == 1, "only avatars/new.jpg is left: \(usage)")
        let health = try await serve.request("GET", "/healthz")
        #expect(health.status == 200)
        let page = try await serve.request("GET", "/?token=\(Self.token)")
        #expect(page.status == 200)
        #expect(page.body.contains("<h1>media-janitor</h1>") && page.body.contains("avatars/old.jpg"))
        // 4. SIGTERM: exit 0, nothing left running.
        #expect(serve.terminate() == 0, "\(serve.stderr)")
        let stats = try json(try app.ok(["queue", "stats", "--format", "json"]))
        #expect(stats["total_pending"] as? Int == 0)
        let store = try DatabaseQueue(path: app.path + "/.janitor/state.sqlite3")
        let running = try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM queue_item WHERE state = 'running'") }
        #expect(running == 0)
    }

    @Test("every endpoint refuses bad input with a status and a message that names what is wrong")
    func badInput() async throws {
        let app = try forum()
        let serve = try ServeProcess(in: app.path)
        defer { _ = serve.terminate() }
        func post(_ body: String, headers: [String: String]? = nil) async throws -> ServeProcess.Reply {
            try await serve.request("POST", "/v1/events", body: Data(body.utf8), headers: headers ?? auth)
        }
        let valid = #"{"id": "e", "table": "accounts_user", "column": "avatar", "op": "replace", "key": "1", "old": "avatars/old.jpg", "new": null}"#
        // Authentication.
        let none = try await serve.request("POST", "/v1/events", body: Data(valid.utf8), headers: ["Content-Type": "application/json"])
        #expect(none.status == 401 && none.headers["www-authenticate"] == "Bearer" && none.body.contains("Authorization: Bearer TOKEN"))
        #expect(try await post(valid, headers: ["Authorization": "Bearer wrong", "Content-Type": "application/json"]).status == 401)
        for path in ["/v1/queue/stats", "/v1/usage", "/v1/audits/latest", "/metrics", "/"] {
            #expect(try await serve.request("GET", path).status == 401, "\(path)")
        }
        #expect(try await serve.request("POST", "/v1/queue/run").status == 401)
        // Media type and size.
        let form = try await post(valid, headers: ["Authorization": "Bearer \(Self.token)", "Content-Type": "text/plain"])
        #expect(form.status == 415 && form.body.contains("application/x-ndjson"))
        let big = try await post("[" + Array(repeating: valid, count: 40).joined(separator: ",") + "]")
        #expect(big.status == 413 && big.body.contains("serve.max_body"), "\(big.body)")
        // Malformed bodies and events: 400, naming the field.
        // A request with no valid event: 400, or 422 when the safety rules refused its paths.
        let cases: [(String, Int, String, String?)] = [
            ("{not json", 400, "not valid JSON", nil),
            (#"{"id": 5, "table": "accounts_user", "column": "avatar", "op": "replace", "key": "1", "old": "avatars/a.jpg"}"#, 400, "id", "id"),
            (#"{"id": "e2", "column": "avatar", "op": "replace", "key": "1", "old": "avatars/a.jpg"}"#, 400, "table", "table"),
            (#"{"id": "e3", "table": "accounts_user", "column": "avatar", "op": "replace", "key": "1", "old": "../../etc/passwd"}"#, 422, "old", "old"),
            (#"{"id": "e4", "table": "accounts_user", "column": "avatar", "op": "replace", "key": "1", "old": "/etc/passwd"}"#, 422, "old", "old"),
            (#"{"id": "e5", "table": "accounts_user", "column": "avatar", "op": "replace", "key": "1", "old": "avatars/a\u0000.jpg"}"#, 422, "old", "old"),
            (#"{"id": "e6", "table": "accounts_user", "column": "avatar", "op": "explode", "key": "1"}"#, 400, "op", "op"),
        ]
        for (body, status, mention, field) in cases {
            let reply = try await post(body)
            #expect(reply.status == status, "\(body): \(reply.status) \(reply.body)")
            #expect(reply.body.contains(mention), "\(body): \(reply.body)")
            if let field {
                let line = (try reply.json()["events"] as? [[String: Any]])?.first
                #expect(line?["field"] as? String == field, "\(body): \(reply.body)")
                #expect(line?["decision"] as? String == "rejected")
            }
        }
        // Nothing was removed by any of them.
        #expect(app.exists("avatars/old.jpg"))
        // Query parameters and routes.
        let run = try await serve.request("POST", "/v1/queue/run?batch_size=zero", headers: auth)
        #expect(run.status == 400)
        let field = try run.json()["field"] as? String
        #expect(field == "batch_size")
        #expect(try await serve.request("GET", "/v1/nothing", headers: auth).status == 404)
        let audit = try await serve.request("GET", "/v1/audits/latest", headers: auth)
        #expect(audit.status == 404 && audit.body.contains("media-janitor scan"))
        // A batch with one valid and one invalid event: 202, the invalid one marked rejected.
        let mixed = try await post("[" + valid + #", {"id": "bad", "table": "accounts_user"}]"#)
        #expect(mixed.status == 202)
        #expect((try mixed.json()["events"] as? [[String: Any]])?.map { $0["decision"] as? String } == ["enqueued", "rejected"])
        #expect(await ServeProcess.eventually { !app.exists("avatars/old.jpg") })
    }

    @Test("concurrent requests are decided together, each gets its own events' outcomes, and a still-referenced file is kept")
    func concurrentRequests() async throws {
        let app = try forum()
        for index in 0..<60 { app.file("forum/\(index).png") }
        try app.sql("INSERT INTO forum_post (id, image) VALUES (7, 'forum/7.png')")
        let serve = try ServeProcess(in: app.path)
        defer { _ = serve.terminate() }
        let headers = auth
        let replies = try await withThrowingTaskGroup(of: (Int, ServeProcess.Reply).self) { group in
            for index in 0..<60 {
                group.addTask {
                    let event = #"{"id": "c\#(index)", "table": "forum_post", "column": "image", "op": "delete", "key": "\#(index)", "old": "forum/\#(index).png"}"#
                    return (index, try await serve.request("POST", "/v1/events", body: Data(event.utf8), headers: headers))
                }
            }
            var replies: [Int: ServeProcess.Reply] = [:]
            for try await (index, reply) in group { replies[index] = reply }
            return replies
        }
        for index in 0..<60 {
            let line = (try replies[index]?.json()["events"] as? [[String: Any]])?.first
            #expect(line?["id"] as? String == "c\(index)")
            #expect(line?["decision"] as? String == (index == 7 ? "kept" : "enqueued"), "\(index): \(String(describing: line))")
        }
        #expect(await ServeProcess.eventually { (0..<60).allSatisfy { $0 == 7 || !app.exists("forum/\($0).png") } })
        #expect(app.exists("forum/7.png"))
    }

    @Test("a listen address that is not HOST:PORT is a usage error (exit 2)")
    func badListen() throws {
        let app = try forum()
        for address in ["8787", "localhost:", "localhost:99999", ":80"] {
            let outcome = try app.run(["serve", "--listen", address])
            #expect(outcome.status == 2, "\(address)")
            #expect(outcome.stderr.contains("invalid listen address '\(address)'"), "\(outcome.stderr)")
        }
    }

    @Test("listening where other machines can reach it needs a token: refused without one (exit 2), before anything starts", .timeLimit(.minutes(1)))
    func publicListenNeedsToken() throws {
        let app = try ForumApp(quarantine: "0")
        for address in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8787"] {
            let outcome = try app.run(["serve", "--listen", address])
            #expect(outcome.status == 2, "\(address): \(outcome.stderr)")
            #expect(outcome.stderr.contains("error: serve would listen on '\(address)', which other machines can reach, with no serve.token: anyone who reaches it could queue removals; set 'serve.token'"), "\(outcome.stderr)")
            #expect(!outcome.stderr.contains("listening on"))
        }
    }
}

@Suite("serve: webhooks")
struct ServeWebhookTests {
    @Test("after a removal batch each webhook gets one JSON notice signed with HMAC-SHA256, retried after a failure", arguments: AppBackend.allCases)
    func signedNotice(backend: AppBackend) async throws {
        let receiver = try HookReceiver(failures: 1)
        let app = try ForumApp(quarantine: "0", extraConfig: "serve: {webhooks: [{url: \"http://127.0.0.1:\(receiver.port)/hook\", secret: \"k3y\"}]}", backend: backend)
        for name in ["avatars/old.jpg", "forum/x.png"] { app.file(name) }
        let serve = try ServeProcess(in: app.path)
        defer { _ = serve.terminate() }
        let events = """
            [{"id": "a", "table": "accounts_user", "column": "avatar", "op": "delete", "key": "1", "old": "avatars/old.jpg"},
             {"id": "b", "table": "forum_post", "column": "image", "op": "delete", "key": "2", "old": "forum/x.png"}]
            """
        let posted = try await serve.request("POST", "/v1/events", body: Data(events.utf8), headers: ["Content-Type": "application/json"])
        #expect(posted.status == 202, "\(posted.body)")
        #expect(await ServeProcess.eventually(20) { receiver.requests.count >= 2 }, "one refused, then delivered: \(serve.stderr)")
        let delivered = try #require(receiver.requests.last)
        let expected = HMAC<SHA256>.authenticationCode(for: delivered.body, using: SymmetricKey(data: Data("k3y".utf8))).map { String(format: "%02x", $0) }.joined()
        #expect(delivered.headers["x-janitor-signature"] == "sha256=" + expected)
        let notice = try json(String(decoding: delivered.body, as: UTF8.self))
        #expect(notice["event"] as? String == "removed")
        let groups = try #require(notice["groups"] as? [[String: Any]])
        let files = groups.flatMap { ($0["removals"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String } }
        #expect(Set(files) == ["avatars/old.jpg", "forum/x.png"])
        #expect(Set(groups.compactMap { $0["class"] as? String }).isSuperset(of: ["avatars", "forum_images"]))
    }
}

@Suite("serve: the watcher")
struct ServeWatcherTests {
    @Test("files created while serving, in new nested directories, show up in /v1/usage at once; /healthz reports the watch headroom", arguments: AppBackend.allCases)
    func usageFollowsTheWatcher(backend: AppBackend) async throws {
        let app = try ForumApp(quarantine: "0", backend: backend)
        app.file("avatars/a.jpg")
        let serve = try ServeProcess(in: app.path)
        defer { _ = serve.terminate() }
        func avatars() async throws -> Int? {
            let usage = try await serve.request("GET", "/v1/usage").json()
            return (usage["classes"] as? [[String: Any]])?.first { $0["name"] as? String == "avatars" }?["files"] as? Int
        }
        #expect(try await ServeProcess.eventually { try await avatars() == 1 })
        for index in 0..<50 { app.file("avatars/new/\(index % 5)/deeper/\(index).jpg") }
        #expect(try await ServeProcess.eventually { try await avatars() == 51 }, "\(serve.stderr)")
        let health = try await serve.request("GET", "/healthz").json()
        let watch = try #require(health["watch"] as? [String: Any])
        #expect((watch["watched_directories"] as? Int ?? 0) >= 11)
        #expect((watch["headroom"] as? Int ?? 0) > 0)
    }

    @Test("a class whose files pass max_total_size gets a retention run as soon as the watcher sees the file that crossed it")
    func sizeCapActsAtOnce() async throws {
        // Appended under `classes:`; safety stays at 0.5 (2 of 4 rows and files go).
        let app = try ForumApp(quarantine: "0", extraConfig: """
              uploads:
                paths: ["uploads/**"]
                references: [{table: upload, column: file, key: id, created: created_at}]
                retention: {max_total_size: 1KB, row_action: delete}
            """)
        try app.sql("CREATE TABLE upload (id INTEGER PRIMARY KEY, created_at TEXT, file TEXT)")
        for id in 1...3 {
            app.file("uploads/\(id).bin", content: String(repeating: "u", count: 300))
            try app.sql("INSERT INTO upload VALUES (\(id), '2026-01-0\(id) 00:00:00', 'uploads/\(id).bin')")
        }
        let serve = try ServeProcess(in: app.path)
        defer { _ = serve.terminate() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(app.exists("uploads/1.bin"), "900 bytes: under the cap")
        // The app adds a fourth upload: 1200 bytes > 1KB, down to at most 819 (80%).
        try app.sql("INSERT INTO upload VALUES (4, '2026-01-04 00:00:00', 'uploads/4.bin')")
        app.file("uploads/4.bin", content: String(repeating: "u", count: 300))
        #expect(await ServeProcess.eventually { !app.exists("uploads/1.bin") && !app.exists("uploads/2.bin") }, "\(serve.stderr)")
        #expect(app.exists("uploads/3.bin") && app.exists("uploads/4.bin"))
        let rows = try app.db.ints("SELECT id FROM upload ORDER BY id")
        #expect(rows == [3, 4])
    }
}

@Suite("serve: first-seen times")
struct ServeFirstSeenTests {
    @Test("a file the watcher first saw within grace is too young for an audit, even with an old mtime", arguments: AppBackend.allCases)
    func graceFromFirstSeen(backend: AppBackend) async throws {
        let app = try ForumApp(quarantine: "0", backend: backend)
        app.file("avatars/kept.jpg")
        try app.sql("INSERT INTO accounts_user (id, avatar) VALUES (1, 'avatars/kept.jpg')")
        let serve = try ServeProcess(in: app.path)
        try await Task.sleep(for: .milliseconds(300))
        app.file("avatars/restored.jpg")  // mtime from 2023, as a restore from backup keeps it
        let store = try DatabaseQueue(path: app.path + "/.janitor/state.sqlite3")
        let recorded = try await ServeProcess.eventually {
            try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM seen_file WHERE path = 'avatars/restored.jpg'") } == 1
        }
        #expect(recorded, "\(serve.stderr)")
        #expect(serve.terminate() == 0)
        let scan = try json(try app.ok(["scan", "--format", "json", "--no-record"]))
        let finding = (scan["findings"] as? [[String: Any]])?.first { $0["path"] as? String == "avatars/restored.jpg" }
        #expect(finding?["kind"] as? String == "too_young", "\(String(describing: finding))")
        // A clean sweep keeps it.
        try app.ok(["clean", "--force"])
        #expect(app.exists("avatars/restored.jpg"))
    }
}
