package cutover.mongostandin;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.ArrayFilters;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.QueryParameters;
import de.bwaldvogel.mongo.backend.StandinAccess;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;
import de.bwaldvogel.mongo.exception.MongoServerException;
import de.bwaldvogel.mongo.exception.NamespaceExistsException;
import de.bwaldvogel.mongo.exception.TypeMismatchException;
import de.bwaldvogel.mongo.oplog.Oplog;

/**
 * Pipeline-style updates (an {@code update}/{@code u} that is an array of stages), which
 * mongo-java-server 1.47.0 rejects (upstream issue #167). OpenIM v3.8.3 sends one from
 * {@code VersionLogMgo.writeLogBatch2} as {@code findAndModify}.
 *
 * <p>Each matched document is run through the library's own aggregation stages
 * ({@code $addFields}/{@code $set}, {@code $project}, {@code $unset}, {@code $replaceRoot}/
 * {@code $replaceWith}) and written back as a replacement; with upsert and no match, the
 * pipeline runs on the query's equality fields and the result is inserted. The whole
 * find-compute-write runs under the collection's monitor, the lock the library's synchronized
 * collections use for their own writes.
 */
final class PipelineUpdates {

    private PipelineUpdates() {
    }

    /**
     * Handles {@code findAndModify} with a pipeline {@code update} and {@code update} commands with
     * any pipeline {@code u}; returns null for every other command (the library handles those).
     */
    static Document handle(MongoBackend backend, Oplog oplog, String databaseName, String command, Document query) {
        if (databaseName.equals("admin")) {
            return null;
        }
        if (command.equalsIgnoreCase("findAndModify")) {
            if (query.get("update") instanceof List && !Utils.isTrue(query.get("remove"))) {
                return findAndModify(backend.resolveDatabase(databaseName), oplog, command, query);
            }
        } else if (command.equalsIgnoreCase("update")) {
            if (hasPipelineUpdate(query.get("updates"))) {
                return update(backend.resolveDatabase(databaseName), oplog, command, query);
            }
        }
        return null;
    }

    private static boolean hasPipelineUpdate(Object updates) {
        if (!(updates instanceof List)) {
            return false;
        }
        for (Object entry : (List<?>) updates) {
            if (entry instanceof Document && ((Document) entry).get("u") instanceof List) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- findAndModify

    private static Document findAndModify(MongoDatabase database, Oplog oplog, String command, Document query) {
        String collectionName = String.valueOf(query.get(command));
        Document filter = optionalDocument(query, "query");
        Document sort = optionalDocument(query, "sort");
        Document fields = optionalDocument(query, "fields");
        boolean upsert = Utils.isTrue(query.get("upsert"));
        boolean returnNew = Utils.isTrue(query.get("new"));
        List<Document> stages = translatePipeline(query.get("update"));

        MongoCollection<?> collection = upsert
            ? resolveOrCreateCollection(database, collectionName)
            : database.resolveCollection(collectionName, false);

        Document lastErrorObject = new Document();
        Document value = null;
        String idField = collection == null ? null : StandinAccess.idField(collection);
        if (collection == null) {
            lastErrorObject.put("n", 0);
            lastErrorObject.put("updatedExisting", Boolean.FALSE);
        } else {
            Aggregation pipeline = Aggregation.fromPipeline(stages, null, database, collection, oplog);
            synchronized (collection) {
                List<Document> found = findMatching(collection, filter, sort, 1);
                if (!found.isEmpty()) {
                    Document before = found.get(0);
                    Document after = replaceExisting(collection, oplog, pipeline, before);
                    lastErrorObject.put("n", 1);
                    lastErrorObject.put("updatedExisting", Boolean.TRUE);
                    value = returnNew ? after : before;
                } else if (upsert) {
                    Document inserted = insertUpserted(collection, oplog, pipeline, filter);
                    lastErrorObject.put("n", 1);
                    lastErrorObject.put("updatedExisting", Boolean.FALSE);
                    lastErrorObject.put("upserted", inserted.get(idField));
                    value = returnNew ? inserted : null;
                } else {
                    lastErrorObject.put("n", 0);
                    lastErrorObject.put("updatedExisting", Boolean.FALSE);
                }
            }
        }

        if (value != null && fields != null && !fields.isEmpty()) {
            value = StandinAccess.project(fields, idField, value);
        }

        Document response = new Document();
        response.put("lastErrorObject", lastErrorObject);
        response.put("value", value);
        Utils.markOkay(response);
        return response;
    }

    // ---------------------------------------------------------------- update command

    private static Document update(MongoDatabase database, Oplog oplog, String command, Document query) {
        String collectionName = String.valueOf(query.get(command));
        if (collectionName.startsWith("system.")) {
            throw new MongoServerError(10156, "cannot update system collection");
        }
        boolean ordered = !query.containsKey("ordered") || Utils.isTrue(query.get("ordered"));
        List<?> updates = (List<?>) query.get("updates");

        int matched = 0;
        int modified = 0;
        List<Document> upserted = new ArrayList<>();
        List<Document> writeErrors = new ArrayList<>();

        for (int i = 0; i < updates.size(); i++) {
            try {
                if (!(updates.get(i) instanceof Document)) {
                    throw new TypeMismatchException("each update must be an object");
                }
                Document entry = (Document) updates.get(i);
                Document selector = optionalDocument(entry, "q");
                Object update = entry.get("u");
                boolean multi = Utils.isTrue(entry.get("multi"));
                boolean upsert = Utils.isTrue(entry.get("upsert"));
                MongoCollection<?> collection = resolveOrCreateCollection(database, collectionName);

                final Document result;
                if (update instanceof List) {
                    List<Document> stages = translatePipeline(update);
                    Aggregation pipeline = Aggregation.fromPipeline(stages, null, database, collection, oplog);
                    result = pipelineUpdate(collection, oplog, pipeline, selector, multi, upsert);
                } else if (update instanceof Document) {
                    Document updateDocument = (Document) update;
                    ArrayFilters arrayFilters = StandinAccess.arrayFilters(entry, updateDocument);
                    result = collection.updateDocuments(selector, updateDocument, arrayFilters, multi, upsert, oplog);
                } else {
                    throw new TypeMismatchException("Update argument must be either an object or an array");
                }

                if (result.containsKey("upserted")) {
                    Document upsertedEntry = new Document("index", i);
                    upsertedEntry.put("_id", result.get("upserted"));
                    upserted.add(upsertedEntry);
                }
                matched += ((Number) result.get("n")).intValue();
                modified += ((Number) result.get("nModified")).intValue();
            } catch (MongoServerException e) {
                writeErrors.add(writeError(i, e));
                if (ordered) {
                    break;
                }
            }
        }

        Document response = new Document();
        response.put("n", matched + upserted.size());
        response.put("nModified", modified);
        if (!upserted.isEmpty()) {
            response.put("upserted", upserted);
        }
        if (!writeErrors.isEmpty()) {
            response.put("writeErrors", writeErrors);
        }
        Utils.markOkay(response);
        return response;
    }

    private static Document pipelineUpdate(MongoCollection<?> collection, Oplog oplog, Aggregation pipeline,
                                           Document selector, boolean multi, boolean upsert) {
        Document result = new Document();
        synchronized (collection) {
            List<Document> matches = findMatching(collection, selector, null, multi ? 0 : 1);
            int modified = 0;
            for (Document before : matches) {
                Document after = replaceExisting(collection, oplog, pipeline, before);
                if (!after.equals(before)) {
                    modified++;
                }
            }
            if (matches.isEmpty() && upsert) {
                Document inserted = insertUpserted(collection, oplog, pipeline, selector);
                result.put("upserted", inserted.get(StandinAccess.idField(collection)));
            }
            result.put("n", matches.size());
            result.put("nModified", modified);
        }
        return result;
    }

    private static Document writeError(int index, MongoServerException e) {
        Document error = new Document();
        error.put("index", index);
        if (e instanceof MongoServerError) {
            MongoServerError serverError = (MongoServerError) e;
            error.put("code", serverError.getCode());
            error.putIfNotNull("codeName", serverError.getCodeName());
        } else {
            error.put("code", 8);
            error.put("codeName", "UnknownError");
        }
        error.put("errmsg", e.getMessageWithoutErrorCode());
        return error;
    }

    // ---------------------------------------------------------------- shared steps

    /** Deep copies of the matching documents (limit 0 = all), in sort order when a sort is given. */
    private static List<Document> findMatching(MongoCollection<?> collection, Document filter, Document sort, int limit) {
        // always wrapped in {query: ...}: a filter on a field called "query" is then not misread
        Document selector = new Document("query", filter);
        if (sort != null && !sort.isEmpty()) {
            selector.put("orderby", sort);
        }
        List<Document> matches = new ArrayList<>();
        for (Document document : collection.handleQuery(new QueryParameters(selector, 0, limit))) {
            matches.add(document.cloneDeeply());
        }
        return matches;
    }

    /** Runs the pipeline over an existing document and stores the result in its place. */
    private static Document replaceExisting(MongoCollection<?> collection, Oplog oplog, Aggregation pipeline,
                                            Document before) {
        String idField = StandinAccess.idField(collection);
        if (idField == null || !before.containsKey(idField)) {
            throw new MongoServerError(2, "BadValue", "pipeline updates need documents with an id field");
        }
        Object id = before.get(idField);
        Document after = runPipeline(pipeline, before.cloneDeeply());
        if (!after.containsKey(idField)) {
            after = withIdFirst(idField, id, after);
        }
        if (!after.equals(before)) {
            // a replacement update: the library checks that _id is unchanged and maintains the indexes
            collection.updateDocuments(new Document(idField, id), after.cloneDeeply(), ArrayFilters.empty(),
                false, false, oplog);
        }
        return after;
    }

    /** Upsert without a match: the pipeline runs on the query's equality fields; the result is inserted. */
    private static Document insertUpserted(MongoCollection<?> collection, Oplog oplog, Aggregation pipeline,
                                           Document filter) {
        String idField = StandinAccess.idField(collection);
        Document seed = StandinAccess.selectorToDocument(collection, filter);
        Document result = runPipeline(pipeline, seed);
        Document inserted = result;
        if (idField != null) {
            Object id = result.containsKey(idField)
                ? result.get(idField)
                : StandinAccess.deriveDocumentId(collection, filter);
            inserted = withIdFirst(idField, id, result);
        }
        Document stored = inserted.cloneDeeply();
        collection.addDocument(stored);
        oplog.handleInsert(collection.getFullName(), List.of(stored.cloneDeeply()));
        return inserted;
    }

    private static Document runPipeline(Aggregation pipeline, Document document) {
        List<Document> results = pipeline.runStages(Stream.of(document));
        if (results.size() != 1) {
            throw new MongoServerError(2, "BadValue", "update pipeline produced " + results.size() + " documents");
        }
        return results.get(0);
    }

    private static Document withIdFirst(String idField, Object id, Document document) {
        Document result = new Document(idField, id);
        for (Map.Entry<String, Object> entry : document.entrySet()) {
            if (!entry.getKey().equals(idField)) {
                result.put(entry.getKey(), entry.getValue());
            }
        }
        return result;
    }

    private static MongoCollection<?> resolveOrCreateCollection(MongoDatabase database, String collectionName) {
        MongoCollection<?> collection = database.resolveCollection(collectionName, false);
        if (collection != null) {
            return collection;
        }
        try {
            return database.createCollectionOrThrowIfExists(collectionName, CollectionOptions.withDefaults());
        } catch (NamespaceExistsException e) {
            // created concurrently by another connection
            return database.resolveCollection(collectionName, true);
        }
    }

    // ---------------------------------------------------------------- pipeline translation

    /**
     * Checks the stages an update pipeline may use and turns them into ones the library's
     * {@link Aggregation} knows: {@code $set} → {@code $addFields}, {@code $replaceWith} →
     * {@code $replaceRoot}; expressions get their array literals made evaluable
     * ({@link ArrayLiterals}).
     */
    static List<Document> translatePipeline(Object update) {
        if (!(update instanceof List)) {
            throw new TypeMismatchException("Update argument must be either an object or an array");
        }
        List<Document> stages = new ArrayList<>();
        for (Object element : (List<?>) update) {
            if (!(element instanceof Document)) {
                throw new TypeMismatchException("Each element of the 'pipeline' array must be an object");
            }
            Document stage = (Document) element;
            if (stage.size() != 1) {
                throw new MongoServerError(40323, "A pipeline stage specification object must contain exactly one field.");
            }
            String name = stage.keySet().iterator().next();
            Object spec = stage.get(name);
            switch (name) {
                case "$addFields":
                case "$set":
                    stages.add(new Document("$addFields", rewriteSpecification(name, spec)));
                    break;
                case "$project":
                    stages.add(new Document("$project", rewriteSpecification(name, spec)));
                    break;
                case "$unset":
                    stages.add(new Document("$unset", spec));
                    break;
                case "$replaceRoot": {
                    if (!(spec instanceof Document)) {
                        throw new MongoServerError(40229, "expected an object as specification for $replaceRoot stage, got " + Utils.describeType(spec));
                    }
                    Document replaceRoot = new Document((Document) spec);
                    if (replaceRoot.containsKey("newRoot")) {
                        replaceRoot.put("newRoot", ArrayLiterals.rewrite(replaceRoot.get("newRoot")));
                    }
                    stages.add(new Document("$replaceRoot", replaceRoot));
                    break;
                }
                case "$replaceWith":
                    stages.add(new Document("$replaceRoot", new Document("newRoot", ArrayLiterals.rewrite(spec))));
                    break;
                default:
                    throw new MongoServerError(72, "InvalidOptions", name + " is not allowed to be used within an update");
            }
        }
        return stages;
    }

    private static Document rewriteSpecification(String stageName, Object spec) {
        if (!(spec instanceof Document)) {
            throw new MongoServerError(40272, stageName + " specification stage must be an object, got " + Utils.describeType(spec));
        }
        Document result = new Document();
        for (Map.Entry<String, Object> entry : ((Document) spec).entrySet()) {
            result.put(entry.getKey(), ArrayLiterals.rewrite(entry.getValue()));
        }
        return result;
    }

    private static Document optionalDocument(Document command, String key) {
        Object value = command.get(key);
        if (value == null) {
            return key.equals("query") || key.equals("q") ? new Document() : null;
        }
        if (!(value instanceof Document)) {
            throw new TypeMismatchException("'" + key + "' must be an object, not " + Utils.describeType(value));
        }
        return (Document) value;
    }
}
