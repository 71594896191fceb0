package cutover.mongostandin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.bson.Document;
import org.bson.conversions.Bson;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.mongodb.MongoClientSettings;
import com.mongodb.ConnectionString;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.WriteModel;
import com.mongodb.client.result.UpdateResult;

/**
 * Talks to the stand-in with the MongoDB Java driver, using the shapes OpenIM v3.8.3 sends.
 */
class StandinTest {

    static {
        // quiet: some tests provoke command errors on purpose, which the library logs with a stack trace
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
        System.setProperty("org.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoWireProtocolHandler", "off");
    }

    private static Standin standin;
    private static MongoClient client;
    private static MongoDatabase db;

    @BeforeAll
    static void start() {
        standin = Standin.start("127.0.0.1", 0, null);
        client = client(standin);
        db = client.getDatabase("openim_v3");
    }

    @AfterAll
    static void stop() {
        client.close();
        standin.close();
    }

    private static MongoClient client(Standin s) {
        return MongoClients.create(MongoClientSettings.builder()
            .applyConnectionString(new ConnectionString(s.connectionString()))
            .applyToClusterSettings(b -> b.serverSelectionTimeout(5, TimeUnit.SECONDS))
            .build());
    }

    // ------------------------------------------------------------------ (1) seq allocation

    /** seqConversationMongo.Malloc: findAndModify, upsert, $inc + $set, projection {_id:0, max_seq:1}. */
    @Test
    void seqMallocUpsertIncWithProjection() {
        MongoCollection<Document> seq = db.getCollection("seq");
        FindOneAndUpdateOptions opt = new FindOneAndUpdateOptions().upsert(true)
            .returnDocument(ReturnDocument.AFTER)
            .projection(new Document("_id", 0).append("max_seq", 1));
        Bson filter = new Document("conversation_id", "si_a_b");
        Bson update = new Document("$inc", new Document("max_seq", 10L)).append("$set", new Document("min_seq", 0L));

        Document first = seq.findOneAndUpdate(filter, update, opt);
        assertEquals(new Document("max_seq", 10L), first);
        Document second = seq.findOneAndUpdate(filter, update, opt);
        assertEquals(new Document("max_seq", 20L), second);
        assertEquals(1, seq.countDocuments(filter));
        Document stored = seq.find(filter).first();
        assertEquals(0L, stored.get("min_seq"));
    }

    // ------------------------------------------------------------------ (2) version log pipeline

    /** The exact pipeline of VersionLogMgo.writeLogBatch2 (open-im-server v3.8.3). */
    private static List<Bson> writeLogBatch2Pipeline(List<String> eIds, int state, Date now) {
        List<Document> elems = new ArrayList<>();
        for (String eId : eIds) {
            elems.add(new Document("e_id", eId).append("version", "$version").append("state", state)
                .append("last_update", now));
        }
        List<Bson> pipeline = new ArrayList<>();
        pipeline.add(new Document("$addFields", new Document("delete_e_ids", eIds)));
        pipeline.add(new Document("$set", new Document("version", new Document("$add", List.of("$version", 1)))
            .append("last_update", now)));
        pipeline.add(new Document("$set", new Document("logs", new Document("$filter", new Document("input", "$logs")
            .append("as", "log")
            .append("cond", new Document("$not", new Document("$in", List.of("$$log.e_id", "$delete_e_ids"))))))));
        pipeline.add(new Document("$set", new Document("logs", new Document("$concatArrays", List.of("$logs", elems)))));
        pipeline.add(new Document("$unset", "delete_e_ids"));
        return pipeline;
    }

    private static FindOneAndUpdateOptions writeLogBatch2Options(boolean upsert) {
        return new FindOneAndUpdateOptions().upsert(upsert).returnDocument(ReturnDocument.AFTER)
            .projection(new Document("logs", 0));
    }

    /** VersionLogMgo.initDoc */
    private static Document initDoc(String dId, List<String> eIds, int state, Date now) {
        List<Document> logs = new ArrayList<>();
        for (String eId : eIds) {
            logs.add(new Document("e_id", eId).append("state", state).append("version", 1L).append("last_update", now));
        }
        return new Document("_id", new ObjectId()).append("d_id", dId).append("logs", logs)
            .append("version", 1L).append("deleted", 0L).append("last_update", now);
    }

    @Test
    void versionLogPipelineUpdatesExistingDocument() {
        MongoCollection<Document> coll = db.getCollection("version_log_update");
        coll.createIndex(new Document("d_id", 1), new IndexOptions().unique(true));
        Date t0 = new Date(1_700_000_000_000L);
        Date t1 = new Date(1_700_000_001_000L);
        Date t2 = new Date(1_700_000_002_000L);

        // OpenIM: writeLogBatch2 (no upsert) → ErrNoDocuments → initDoc
        assertNull(coll.findOneAndUpdate(new Document("d_id", "u1"), writeLogBatch2Pipeline(List.of("a"), 1, t0),
            writeLogBatch2Options(false)));
        coll.insertOne(initDoc("u1", List.of("a"), 1, t0));

        Document returned = coll.findOneAndUpdate(new Document("d_id", "u1"),
            writeLogBatch2Pipeline(List.of("a", "b"), 2, t1), writeLogBatch2Options(false));
        assertNotNull(returned);
        assertEquals(2L, ((Number) returned.get("version")).longValue());
        assertEquals(t1, returned.getDate("last_update"));
        assertFalse(returned.containsKey("logs"), "projection {logs:0}");
        assertFalse(returned.containsKey("delete_e_ids"));
        assertEquals("u1", returned.getString("d_id"));

        Document stored = coll.find(new Document("d_id", "u1")).first();
        assertFalse(stored.containsKey("delete_e_ids"));
        assertEquals(0L, stored.get("deleted"));
        List<Document> logs = stored.getList("logs", Document.class);
        assertEquals(2, logs.size());
        assertEquals("a", logs.get(0).getString("e_id"));
        assertEquals("b", logs.get(1).getString("e_id"));
        for (Document log : logs) {
            // "$version" inside the array literal must be evaluated (to the already incremented version)
            assertEquals(2L, ((Number) log.get("version")).longValue(), log.toJson());
            assertEquals(2, log.getInteger("state"));
            assertEquals(t1, log.getDate("last_update"));
        }

        coll.findOneAndUpdate(new Document("d_id", "u1"), writeLogBatch2Pipeline(List.of("b"), 3, t2),
            writeLogBatch2Options(false));
        stored = coll.find(new Document("d_id", "u1")).first();
        assertEquals(3L, ((Number) stored.get("version")).longValue());
        logs = stored.getList("logs", Document.class);
        assertEquals(List.of("a", "b"), logs.stream().map(d -> d.getString("e_id")).toList());
        assertEquals(2L, ((Number) logs.get(0).get("version")).longValue());
        assertEquals(3L, ((Number) logs.get(1).get("version")).longValue());
        assertEquals(3, logs.get(1).getInteger("state"));

        // VersionLogMgo.findChangeLog's aggregate over the result
        List<Document> changes = coll.aggregate(List.of(
            new Document("$match", new Document("d_id", "u1")),
            new Document("$addFields", new Document("logs", new Document("$cond", new Document("if",
                new Document("$or", List.of(new Document("$lt", List.of("$version", 2L)),
                    new Document("$gte", List.of("$deleted", 2L)))))
                .append("then", List.of()).append("else", "$logs")))),
            new Document("$addFields", new Document("logs", new Document("$filter", new Document("input", "$logs")
                .append("as", "l").append("cond", new Document("$gt", List.of("$$l.version", 2L)))))),
            new Document("$addFields", new Document("log_len", new Document("$size", "$logs"))),
            new Document("$addFields", new Document("logs", new Document("$cond", new Document("if",
                new Document("$gt", List.of("$log_len", 100))).append("then", List.of()).append("else", "$logs"))))
        )).into(new ArrayList<>());
        assertEquals(1, changes.size());
        assertEquals(List.of("b"), changes.get(0).getList("logs", Document.class).stream()
            .map(d -> d.getString("e_id")).toList());
    }

    @Test
    void versionLogPipelineUpsertInsertsNewDocument() {
        MongoCollection<Document> coll = db.getCollection("version_log_upsert");
        coll.createIndex(new Document("d_id", 1), new IndexOptions().unique(true));
        Date now = new Date(1_700_000_003_000L);

        Document returned = coll.findOneAndUpdate(new Document("d_id", "g1"),
            writeLogBatch2Pipeline(List.of("x", "y"), 1, now), writeLogBatch2Options(true));
        assertNotNull(returned, "upsert + returnDocument AFTER returns the inserted document");
        assertNotNull(returned.getObjectId("_id"));
        assertEquals("g1", returned.getString("d_id"));
        assertFalse(returned.containsKey("logs"));
        // as on MongoDB: $add with a missing field is null, $filter/$concatArrays of a missing array are null
        assertTrue(returned.containsKey("version"));
        assertNull(returned.get("version"));
        assertEquals(now, returned.getDate("last_update"));
        assertEquals(1, coll.countDocuments());

        // the same command again now finds and updates the inserted document
        Document again = coll.findOneAndUpdate(new Document("d_id", "g1"),
            writeLogBatch2Pipeline(List.of("x"), 1, now), writeLogBatch2Options(true));
        assertEquals(returned.getObjectId("_id"), again.getObjectId("_id"));
        assertEquals(1, coll.countDocuments());

        // returnDocument BEFORE on an upsert returns null; upsert with an _id in the query keeps it
        Document before = coll.findOneAndUpdate(new Document("_id", "fixed-id").append("d_id", "g2"),
            List.of(new Document("$set", new Document("version", 1L).append("logs", List.of("$d_id", "$missing")))),
            new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.BEFORE));
        assertNull(before);
        Document g2 = coll.find(new Document("d_id", "g2")).first();
        assertEquals("fixed-id", g2.get("_id"));
        assertEquals(new ArrayList<>(java.util.Arrays.asList("g2", null)), g2.get("logs"), "array literal: field value, missing → null");

        // the unique index still applies to pipeline updates
        assertThrows(MongoCommandException.class, () -> coll.findOneAndUpdate(new Document("d_id", "g2"),
            List.of(new Document("$set", new Document("d_id", "g1"))), new FindOneAndUpdateOptions()));
    }

    @Test
    void pipelineStagesAndUpdateCommand() {
        MongoCollection<Document> coll = db.getCollection("pipeline_misc");
        coll.insertOne(new Document("_id", 1).append("a", 1).append("b", new Document("c", 2)).append("keep", "k"));
        coll.insertOne(new Document("_id", 2).append("a", 5));

        // $replaceWith / $replaceRoot / $project / $unset, sort
        Document r = coll.findOneAndUpdate(new Document(), List.of(
                new Document("$replaceWith", new Document("$mergeObjects", List.of("$$ROOT", "$b"))),
                new Document("$project", new Document("b", 0)),
                new Document("$unset", List.of("keep"))),
            new FindOneAndUpdateOptions().sort(new Document("a", 1)).returnDocument(ReturnDocument.AFTER));
        assertEquals(new Document("_id", 1).append("a", 1).append("c", 2), r);
        Document old = coll.findOneAndUpdate(new Document("_id", 2), List.of(
                new Document("$replaceRoot", new Document("newRoot", new Document("z", new Document("$multiply", List.of("$a", 2)))))),
            new FindOneAndUpdateOptions().returnDocument(ReturnDocument.BEFORE));
        assertEquals(new Document("_id", 2).append("a", 5), old);
        assertEquals(new Document("_id", 2).append("z", 10), coll.find(new Document("_id", 2)).first());

        // a stage not allowed in an update
        MongoCommandException e = assertThrows(MongoCommandException.class, () -> coll.findOneAndUpdate(new Document(),
            List.of(new Document("$match", new Document()))));
        assertEquals(72, e.getErrorCode());

        // update command with a pipeline u: updateOne, updateMany, upsert, and a mixed bulk
        UpdateResult one = coll.updateOne(new Document("_id", 1),
            List.of(new Document("$set", new Document("n", new Document("$add", List.of("$a", 1))))));
        assertEquals(1, one.getMatchedCount());
        assertEquals(1, one.getModifiedCount());
        assertEquals(2, coll.find(new Document("_id", 1)).first().get("n"));

        UpdateResult many = coll.updateMany(new Document(), List.of(new Document("$set", new Document("tag", "t"))));
        assertEquals(2, many.getMatchedCount());
        assertEquals(2, coll.countDocuments(new Document("tag", "t")));

        UpdateResult up = coll.updateOne(new Document("_id", 3), List.of(new Document("$set", new Document("u", true))),
            new UpdateOptions().upsert(true));
        assertEquals(3, up.getUpsertedId().asInt32().getValue());
        assertEquals(new Document("_id", 3).append("u", true), coll.find(new Document("_id", 3)).first());

        List<WriteModel<Document>> bulk = List.of(
            new UpdateOneModel<>(new Document("_id", 1), new Document("$set", new Document("classic", 1))),
            new UpdateOneModel<>(new Document("_id", 2), List.of(new Document("$set", new Document("piped", "$z")))));
        assertEquals(2, coll.bulkWrite(bulk).getModifiedCount());
        assertEquals(1, coll.find(new Document("_id", 1)).first().get("classic"));
        assertEquals(10, coll.find(new Document("_id", 2)).first().get("piped"));

        // changing _id is refused
        assertThrows(MongoWriteException.class, () -> coll.updateOne(new Document("_id", 3),
            List.of(new Document("$set", new Document("_id", 99)))));
    }

    // ------------------------------------------------------------------ (3) aggregate

    /** MsgMgo.getMsgBySeqIndexIn1Doc: $match, $project with $map over indexes and $arrayElemAt. */
    @Test
    void aggregateProjectMapArrayElemAt() {
        MongoCollection<Document> msg = db.getCollection("msg");
        List<Document> msgs = new ArrayList<>();
        for (long seq = 1; seq <= 5; seq++) {
            msgs.add(new Document("msg", new Document("seq", seq).append("content", "m" + seq)).append("revoke", null));
        }
        msg.insertOne(new Document("doc_id", "si_a_b:0").append("msgs", msgs));
        msg.insertOne(new Document("doc_id", "si_a_b:1").append("msgs", List.of()));

        List<Document> result = msg.aggregate(List.of(
            new Document("$match", new Document("doc_id", "si_a_b:0")),
            new Document("$project", new Document("_id", 0).append("doc_id", 1).append("msgs",
                new Document("$map", new Document("input", List.of(0L, 2L, 4L)).append("as", "index")
                    .append("in", new Document("$arrayElemAt", List.of("$msgs", "$$index"))))))
        )).into(new ArrayList<>());
        assertEquals(1, result.size());
        Document doc = result.get(0);
        assertFalse(doc.containsKey("_id"));
        assertEquals("si_a_b:0", doc.getString("doc_id"));
        List<Document> picked = doc.getList("msgs", Document.class);
        assertEquals(List.of(1L, 3L, 5L), picked.stream().map(m -> m.get("msg", Document.class).getLong("seq")).toList());
    }

    // ------------------------------------------------------------------ (4) H2 persistence

    @Test
    void h2DataSurvivesRestart(@TempDir Path dir) {
        String file = dir.resolve("sub/standin.mv").toString();

        Standin first = Standin.start("127.0.0.1", 0, file);
        assertEquals("h2:" + file, first.backendDescription());
        try (MongoClient c = client(first)) {
            MongoCollection<Document> seq = c.getDatabase("openim_v3").getCollection("seq");
            seq.findOneAndUpdate(new Document("conversation_id", "c1"),
                new Document("$inc", new Document("max_seq", 7L)),
                new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER));
            MongoCollection<Document> vl = c.getDatabase("openim_v3").getCollection("version_log");
            vl.createIndex(new Document("d_id", 1), new IndexOptions().unique(true));
            vl.insertOne(initDoc("d1", List.of("a"), 1, new Date(1_700_000_000_000L)));
            vl.findOneAndUpdate(new Document("d_id", "d1"), writeLogBatch2Pipeline(List.of("b"), 1, new Date()),
                writeLogBatch2Options(false));
        } finally {
            first.close();
        }

        Standin second = Standin.start("127.0.0.1", 0, file);
        try (MongoClient c = client(second)) {
            MongoDatabase d = c.getDatabase("openim_v3");
            assertEquals(7L, d.getCollection("seq").find(new Document("conversation_id", "c1")).first().get("max_seq"));
            Document vl = d.getCollection("version_log").find(new Document("d_id", "d1")).first();
            assertEquals(2L, ((Number) vl.get("version")).longValue());
            assertEquals(2, vl.getList("logs", Document.class).size());
            // the unique index came back too
            assertThrows(MongoWriteException.class, () -> d.getCollection("version_log")
                .insertOne(new Document("d_id", "d1")));
        } finally {
            second.close();
        }
    }

    // ------------------------------------------------------------------ CLI

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Main.Options.parse(new String[0]));
        assertThrows(IllegalArgumentException.class, () -> Main.Options.parse(new String[] {"--port"}));
        assertThrows(IllegalArgumentException.class, () -> Main.Options.parse(new String[] {"--port", "x"}));
        assertThrows(IllegalArgumentException.class, () -> Main.Options.parse(new String[] {"--port", "70000"}));
        assertThrows(IllegalArgumentException.class, () -> Main.Options.parse(new String[] {"--port", "1", "--what"}));
        Main.Options o = Main.Options.parse(new String[] {"--port=37017", "--h2", "/tmp/x.mv", "--bind", "0.0.0.0"});
        assertEquals(37017, o.port);
        assertEquals("/tmp/x.mv", o.h2File);
        assertEquals("0.0.0.0", o.bind);
    }
}
