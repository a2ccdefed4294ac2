// What Metabase's PostgreSQL sync does through pgJDBC, as a BI login would:
// DatabaseMetaData.getSchemas / getTables / getColumns (with REMARKS), then a scorecard query.
// getTables asks for the table types Metabase's PostgreSQL driver asks for since it syncs
// partitioned tables: TABLE, PARTITIONED TABLE and VIEW (a tenant database's served tables
// are partitioned, and pgJDBC lists them only under PARTITIONED TABLE); an optional fourth
// argument, comma-separated, asks for other types instead.
// Prints one tab-separated line per fact, read back by tests/serving/test_pg_clients.py.
// Usage: java -cp postgresql.jar:. MetabaseSync <jdbc-url> <user> <password-env-var> [types]
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Properties;

public class MetabaseSync {
    private static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", System.getenv(args[2]));
        props.setProperty("ssl", "true");
        props.setProperty("sslmode", "require");
        try (Connection conn = DriverManager.getConnection(args[0], props)) {
            DatabaseMetaData meta = conn.getMetaData();
            long t = System.nanoTime();
            try (ResultSet rs = meta.getSchemas()) {
                while (rs.next()) {
                    System.out.println("schema\t" + rs.getString("TABLE_SCHEM"));
                }
            }
            System.out.println("timing\tgetSchemas\t" + ms(t));
            t = System.nanoTime();
            String[] types = args.length > 3
                    ? args[3].split(",")
                    : new String[] {"TABLE", "PARTITIONED TABLE", "VIEW"};
            try (ResultSet rs = meta.getTables(null, null, "%", types)) {
                while (rs.next()) {
                    String remarks = rs.getString("REMARKS");
                    System.out.println("table\t" + rs.getString("TABLE_SCHEM") + "."
                            + rs.getString("TABLE_NAME") + "\t" + (remarks == null ? "" : remarks.replace('\n', ' ')));
                }
            }
            System.out.println("timing\tgetTables\t" + ms(t));
            t = System.nanoTime();
            try (ResultSet rs = meta.getColumns(null, "marts", "%", "%")) {
                while (rs.next()) {
                    String remarks = rs.getString("REMARKS");
                    System.out.println("column\tmarts." + rs.getString("TABLE_NAME") + "."
                            + rs.getString("COLUMN_NAME") + "\t" + rs.getString("TYPE_NAME") + "\t"
                            + (remarks == null ? "" : remarks.replace('\n', ' ')));
                }
            }
            System.out.println("timing\tgetColumns\t" + ms(t));
            t = System.nanoTime();
            String sql = "select kpi, sum(value) as total, count(*) as n from marts.kpi_scorecard"
                    + " where grain = ? and location_id = ? group by kpi order by kpi";
            try (PreparedStatement st = conn.prepareStatement(sql)) {
                st.setString(1, "week");
                st.setString(2, "_all");
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        System.out.println("score\t" + rs.getString("kpi") + "\t"
                                + rs.getBigDecimal("total").toPlainString() + "\t" + rs.getLong("n"));
                    }
                }
            }
            System.out.println("timing\tscorecard\t" + ms(t));
        }
    }
}
