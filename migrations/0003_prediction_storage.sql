-- A prediction row is about 3.5 KB (419 features). Above the default 2 KB target PostgreSQL
-- would try to compress every row on insert, which costs CPU and gains little on floats:
-- keep rows whole and uncompressed in the table.
ALTER TABLE predictions SET (toast_tuple_target = 8160);
