-- placeholder: being written. Test only on fresh databases.
SELECT 1;
