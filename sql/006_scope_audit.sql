-- placeholder: being written (scope and audit helper). Test only on fresh databases.
SELECT 1;
