package io.innerq.server;

import org.springframework.http.converter.HttpMessageNotReadableException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.core.exc.UnexpectedEndOfInputException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.exc.MismatchedInputException;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.regex.Pattern;

/**
 * A request body that could not be read as its endpoint's JSON, told in the request's terms: where the JSON breaks
 * (line and column, and the field it was in), or which field has the wrong JSON type, named as the client wrote it
 * ({@code messages[1].content}); never a Java type, a Jackson feature or a path through Java records. Also the JSON
 * type names the API's messages use ("an integer", "a decimal number").
 */
final class JsonErrors {

    /** Jackson's syntax messages, cut where they start naming the input source or the Java side. */
    private static final Pattern CUT = Pattern.compile("\\s*(\\(for |\\(start marker|at \\[Source|\\[Source|\\n).*",
            Pattern.DOTALL);
    /** What a sentence of Jackson's must not name to be repeated to a client. */
    private static final Pattern INTERNAL = Pattern.compile("`|java|jackson|Feature|Exception|\\$|\\bclass\\b|"
            + "deserializ|Creator|REDACTED|[a-z]\\.[A-Z]", Pattern.CASE_INSENSITIVE);
    private static final Pattern CONSTRAINT_SOURCE = Pattern.compile(", from `[^`]*`");

    private JsonErrors() {
    }

    /** The 400 (or the 413 of {@link RequestSizeFilter}) of a body that could not be read. */
    static ApiException translate(HttpMessageNotReadableException e) {
        ApiException tooLarge = RequestSizeFilter.tooLarge(e);
        if (tooLarge != null) {
            return tooLarge;
        }
        JacksonException json = jacksonCause(e);
        if (json == null) {
            // no body, or the JSON literal null: Spring MVC reads both as no body
            return ApiException.invalid("the request body is empty: send a JSON object, e.g. {\"messages\": "
                    + "[{\"role\": \"user\", \"content\": \"Hello\"}]}", null);
        }
        return translate(json);
    }

    static ApiException translate(JacksonException e) {
        String param = param(e);
        return switch (e) {
            case MismatchedInputException m when param.isEmpty() -> wholeBody(m);
            case MismatchedInputException m -> ApiException.invalidType(param, expected(m.getTargetType()),
                    got(m.getCurrentToken()));
            case InputCoercionException c -> outOfRange(param, c);
            case UnexpectedEndOfInputException u -> unparsable("the JSON ends before its value is complete "
                    + "(an object, array or string is not closed)", u);
            case StreamConstraintsException c -> unparsable(clean(CONSTRAINT_SOURCE.matcher(
                    c.getOriginalMessage()).replaceAll("")), c);
            case StreamReadException r -> unparsable(syntax(r.getOriginalMessage()), r);
            default -> unparsable("the JSON could not be read", e);
        };
    }

    /** An integer beyond what its field's Java type holds (a {@code long} for every integer of the API). */
    private static ApiException outOfRange(String param, InputCoercionException c) {
        boolean isInt = c.getTargetType() == Integer.class || c.getTargetType() == int.class;
        long min = isInt ? Integer.MIN_VALUE : Long.MIN_VALUE;
        long max = isInt ? Integer.MAX_VALUE : Long.MAX_VALUE;
        boolean below = c.getOriginalMessage() != null && c.getOriginalMessage().startsWith("Numeric value (-");
        String name = param.isEmpty() ? "number" : param;
        return ApiException.outOfRange(param.isEmpty() ? null : param, true, below,
                "Invalid '%s': integer %s. Expected a value between %d and %d.".formatted(name,
                        below ? "below minimum value" : "above maximum value", min, max));
    }

    /** A mismatch of the body itself: not an object, nothing in it, or more after it. */
    private static ApiException wholeBody(MismatchedInputException m) {
        JsonToken token = m.getCurrentToken();
        if (token == null) {
            return ApiException.invalid("the request body is empty: send a JSON object", null);
        }
        if (m.getOriginalMessage() != null && m.getOriginalMessage().startsWith("Trailing token")) {
            return unparsable("there is more after the JSON object: send exactly one object", m);
        }
        return ApiException.invalid("Invalid type for the request body: the request body must be a JSON object, but "
                + "got %s instead.".formatted(got(token)), null, "invalid_type");
    }

    private static ApiException unparsable(String what, JacksonException e) {
        String param = param(e);
        TokenStreamLocation at = e.getLocation();
        String where = at == null || at.getLineNr() < 1 ? "" : " (line %d, column %d%s)".formatted(at.getLineNr(),
                at.getColumnNr(), param.isEmpty() ? "" : ", in '" + OpenAiRequests.echo(param) + "'");
        return ApiException.invalid("We could not parse the JSON body of your request: %s%s.".formatted(what, where),
                null);
    }

    /** A syntax error as Jackson words it, when that names nothing of Jackson; else in general terms. */
    private static String syntax(String message) {
        if (message == null) {
            return "it is not valid JSON";
        }
        if (message.startsWith("Non-standard token")) {
            int quote = message.indexOf('\'');
            String token = quote < 0 ? "" : message.substring(quote, message.indexOf('\'', quote + 1) + 1);
            return token + " is not a JSON value (numbers are finite, strings are quoted)";
        }
        return clean(message);
    }

    private static String clean(String message) {
        String cut = CUT.matcher(message).replaceAll("").strip();
        if (cut.isEmpty() || INTERNAL.matcher(cut).find()) {
            return "it is not valid JSON";
        }
        return Character.toLowerCase(cut.charAt(0)) + cut.substring(1);
    }

    private static JacksonException jacksonCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof JacksonException j) {
                return j;
            }
        }
        return null;
    }

    /** The field at fault as the client wrote it, {@code messages[1].content}; empty for the body itself. */
    static String param(JacksonException e) {
        var param = new StringBuilder();
        for (JacksonException.Reference r : e.getPath()) {
            if (r.getPropertyName() != null) {
                if (!param.isEmpty()) {
                    param.append('.');
                }
                param.append(r.getPropertyName());
            } else if (r.getIndex() >= 0) {
                param.append('[').append(r.getIndex()).append(']');
            }
        }
        return param.toString();
    }

    /** The JSON type a field of Java type {@code type} takes, as a message says it. */
    static String expected(Class<?> type) {
        if (type == null) {
            return "another JSON type";
        }
        if (type == Long.class || type == Integer.class || type == long.class || type == int.class
                || type == Short.class || type == BigInteger.class) {
            return "an integer";
        }
        if (type == Double.class || type == Float.class || type == double.class || type == float.class
                || type == BigDecimal.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "a boolean";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        return "an object"; // a Map, or a record of the API
    }

    /** The JSON type of the token a reader stopped at, as a message says it. */
    static String got(JsonToken token) {
        if (token == null) {
            return "nothing";
        }
        return switch (token) {
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT -> "an integer";
            case VALUE_NUMBER_FLOAT -> "a decimal number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            case START_OBJECT, END_OBJECT, PROPERTY_NAME -> "an object";
            case START_ARRAY, END_ARRAY -> "an array";
            default -> "another JSON value";
        };
    }

    /** The JSON type of {@code node} (null: JSON null), as a message says it. */
    static String got(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return "null";
        }
        if (node.isString()) {
            return "a string";
        }
        if (node.isIntegralNumber()) {
            return "an integer";
        }
        if (node.isNumber()) {
            return "a decimal number";
        }
        if (node.isBoolean()) {
            return "a boolean";
        }
        if (node.isArray()) {
            return "an array";
        }
        if (node.isObject()) {
            return "an object";
        }
        return "another JSON value";
    }
}
