package cutover.mongostandin;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import de.bwaldvogel.mongo.bson.Document;

/**
 * Makes array literals inside aggregation expressions evaluate their elements.
 *
 * <p>MongoDB evaluates every element of an array literal ({@code [{e_id: "x", version: "$version"}]}
 * yields the document's version). mongo-java-server 1.47.0 returns array literals as they are,
 * so such an element would be stored with the string {@code "$version"}. OpenIM's
 * {@code VersionLogMgo.writeLogBatch2} relies on the MongoDB behaviour inside
 * {@code $concatArrays}.
 *
 * <p>This class rewrites, purely syntactically, every array literal that holds something to
 * evaluate into an expression the library evaluates element by element:
 * <pre>
 *   [e1, e2]  →  {$map: {input: [{v: {$ifNull: [e1, null]}}, {v: {$ifNull: [e2, null]}}],
 *                        as: "__standin_elem", in: "$$__standin_elem.v"}}
 * </pre>
 * The library's {@code $map} evaluates each input element in the current scope (outer
 * {@code $$variables} stay visible); the {@code {v: ...}} wrapper keeps a string result from being
 * taken for a field path again, and {@code $ifNull} turns a missing value into null, as MongoDB
 * does inside arrays. Constant arrays are left untouched.
 */
final class ArrayLiterals {

    static final String ELEMENT_VARIABLE = "__standin_elem";

    private ArrayLiterals() {
    }

    /** Rewrites an expression (a value in {@code $addFields}/{@code $set}/{@code $project}/{@code newRoot}). */
    static Object rewrite(Object expression) {
        if (expression instanceof Document) {
            return rewriteDocument((Document) expression);
        }
        if (expression instanceof List) {
            return rewriteArrayLiteral((List<?>) expression);
        }
        return expression;
    }

    private static Object rewriteDocument(Document document) {
        if (document.size() == 1) {
            String key = document.keySet().iterator().next();
            if (key.startsWith("$")) {
                return new Document(key, rewriteOperatorArgument(key, document.get(key)));
            }
        }
        // object literal (or a nested field specification): every value is an expression
        Document result = new Document();
        for (Map.Entry<String, Object> entry : document.entrySet()) {
            result.put(entry.getKey(), rewrite(entry.getValue()));
        }
        return result;
    }

    private static Object rewriteOperatorArgument(String operator, Object argument) {
        if (operator.equals("$literal")) {
            return argument;
        }
        if (argument instanceof List) {
            // the operator's argument list: each element is an expression (an element that is itself
            // a list is an array literal)
            List<Object> arguments = new ArrayList<>();
            for (Object element : (List<?>) argument) {
                arguments.add(rewrite(element));
            }
            return arguments;
        }
        if (argument instanceof Document) {
            Document named = (Document) argument;
            if (named.size() == 1 && named.keySet().iterator().next().startsWith("$")) {
                // {$op: {$other: ...}}: a single nested expression, e.g. {$not: {$in: [...]}}
                return rewriteDocument(named);
            }
            // named arguments ($filter, $map, $reduce, $cond, $let, $switch, ...)
            Document result = new Document();
            for (Map.Entry<String, Object> entry : named.entrySet()) {
                String name = entry.getKey();
                Object value = entry.getValue();
                if (operator.equals("$switch") && name.equals("branches") && value instanceof List) {
                    List<Object> branches = new ArrayList<>();
                    for (Object branch : (List<?>) value) {
                        branches.add(branch instanceof Document ? rewriteObjectValues((Document) branch) : branch);
                    }
                    result.put(name, branches);
                } else {
                    result.put(name, rewrite(value));
                }
            }
            return result;
        }
        return argument;
    }

    private static Document rewriteObjectValues(Document document) {
        Document result = new Document();
        for (Map.Entry<String, Object> entry : document.entrySet()) {
            result.put(entry.getKey(), rewrite(entry.getValue()));
        }
        return result;
    }

    private static Object rewriteArrayLiteral(List<?> array) {
        List<Object> elements = new ArrayList<>(array.size());
        boolean constant = true;
        for (Object element : array) {
            Object rewritten = rewrite(element);
            elements.add(rewritten);
            if (!isConstant(rewritten)) {
                constant = false;
            }
        }
        if (constant) {
            return array;
        }
        List<Object> input = new ArrayList<>(elements.size());
        for (Object element : elements) {
            List<Object> ifNullArguments = new ArrayList<>(2);
            ifNullArguments.add(element);
            ifNullArguments.add(null);
            input.add(new Document("v", new Document("$ifNull", ifNullArguments)));
        }
        Document map = new Document();
        map.put("input", input);
        map.put("as", ELEMENT_VARIABLE);
        map.put("in", "$$" + ELEMENT_VARIABLE + ".v");
        return new Document("$map", map);
    }

    /** True when the value contains nothing the expression engine would evaluate. */
    static boolean isConstant(Object value) {
        if (value instanceof String) {
            return !((String) value).startsWith("$");
        }
        if (value instanceof Document) {
            for (Map.Entry<String, Object> entry : ((Document) value).entrySet()) {
                if (entry.getKey().startsWith("$") || !isConstant(entry.getValue())) {
                    return false;
                }
            }
            return true;
        }
        if (value instanceof Collection) {
            for (Object element : (Collection<?>) value) {
                if (!isConstant(element)) {
                    return false;
                }
            }
            return true;
        }
        return true;
    }
}
