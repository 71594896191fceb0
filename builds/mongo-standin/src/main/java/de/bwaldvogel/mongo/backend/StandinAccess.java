package de.bwaldvogel.mongo.backend;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.bson.Document;

/**
 * cutover's bridge to a few package-private helpers of mongo-java-server 1.47.0, so that the
 * stand-in's pipeline updates behave exactly like the library's own findAndModify/update
 * (find-style projection, array filters, upsert seed document, upsert _id).
 *
 * It lives in the library's package on purpose (the library jar is neither sealed nor a
 * named module). Nothing here changes library behaviour.
 */
public final class StandinAccess {

    private StandinAccess() {
    }

    /** The collection's id field ("_id" unless the collection was created without one). */
    public static String idField(MongoCollection<?> collection) {
        if (collection instanceof AbstractMongoCollection) {
            return ((AbstractMongoCollection<?>) collection).getIdField();
        }
        return Constants.ID_FIELD;
    }

    /** findAndModify's "fields": the same projection the library applies to find/findAndModify. */
    public static Document project(Document fields, String idField, Document document) {
        return new Projection(fields, idField).projectDocument(document);
    }

    /** The update entry's arrayFilters, parsed the way the library's update command does. */
    public static ArrayFilters arrayFilters(Document updateEntry, Document update) {
        return ArrayFilters.parse(updateEntry, update);
    }

    /** Upsert seed: the equality parts of a query turned into a document (as the library's upsert does). */
    public static Document selectorToDocument(MongoCollection<?> collection, Document selector) {
        return asAbstract(collection).convertSelectorToDocument(selector);
    }

    /** Upsert _id: the query's plain _id, the first of an _id $in, else a new ObjectId. */
    public static Object deriveDocumentId(MongoCollection<?> collection, Document selector) {
        return asAbstract(collection).deriveDocumentId(selector);
    }

    private static AbstractMongoCollection<?> asAbstract(MongoCollection<?> collection) {
        if (!(collection instanceof AbstractMongoCollection)) {
            throw new IllegalStateException("unexpected collection type: " + collection.getClass().getName());
        }
        return (AbstractMongoCollection<?>) collection;
    }
}
