-- placeholder: being written (accounts helper). Test only on fresh databases.
SELECT 1;
