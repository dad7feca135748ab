-- Run once by the mysql image on an empty data directory (docker-entrypoint-initdb.d).
-- The user sluice reads the binlog as; mysql_native_password because libmariadb's
-- caching_sha2_password needs TLS or the server's RSA key on a plain connection.
CREATE USER 'cdc'@'%' IDENTIFIED WITH mysql_native_password BY 'cdcpass';
GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'%';

-- Something to capture: docker compose exec mysql mysql -uroot -prootpass shop
CREATE DATABASE IF NOT EXISTS shop;
CREATE TABLE shop.orders (
    id INT PRIMARY KEY AUTO_INCREMENT,
    customer VARCHAR(64) NOT NULL,
    total DECIMAL(10, 2) NOT NULL,
    created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO shop.orders (customer, total) VALUES ('alice', 12.50), ('bob', 7.00);
