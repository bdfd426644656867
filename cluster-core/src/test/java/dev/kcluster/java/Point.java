package dev.kcluster.java;

import dev.kcluster.MessageCodec;
import java.nio.charset.StandardCharsets;

/** A Java value type sent with its own codec. */
final class Point {
    static final MessageCodec<Point> CODEC = MessageCodec.of(
            "test.Point",
            p -> (p.x + "," + p.y).getBytes(StandardCharsets.UTF_8),
            b -> {
                String[] parts = new String(b, StandardCharsets.UTF_8).split(",");
                return new Point(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
            });

    final int x;
    final int y;

    Point(int x, int y) {
        this.x = x;
        this.y = y;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Point && ((Point) o).x == x && ((Point) o).y == y;
    }

    @Override
    public int hashCode() {
        return 31 * x + y;
    }

    @Override
    public String toString() {
        return "Point(" + x + ", " + y + ")";
    }
}
